// bench/floor.S — the start-up "floor": the least a Linux x86-64 program can do to print
// "hello, world". No libc, no runtime: _start, one write(2), one exit_group(2), via raw
// syscalls. Built by the benchmark driver (bench/driver) with `gcc -nostdlib -static`.
// gort's hello is measured against this: whatever gort costs above it is the runtime's
// own start-up.

        .section .rodata                // read-only data section
msg:    .ascii  "hello, world\n"        // the 13 bytes to print
        .set    msglen, . - msg         // their length (13), computed by the assembler

        .text                           // code section
        .globl  _start                  // the ELF entry point; the linker looks for it
_start:
        mov     $1, %eax                // syscall number 1 = write
        mov     $1, %edi                // arg 1: fd 1 (stdout)
        lea     msg(%rip), %rsi         // arg 2: address of the message
        mov     $msglen, %edx           // arg 3: byte count
        syscall                         // write(1, msg, 13); result ignored
        mov     $231, %eax              // syscall number 231 = exit_group
        xor     %edi, %edi              // arg 1: exit status 0
        syscall                         // exit_group(0); does not return

        .section .note.GNU-stack,"",@progbits   // mark the stack non-executable
