# preempt_amd64.s: asyncPreempt, after Go's preempt_amd64.s, for Rust code.
#
# The SIGURG handler (preempt.rs) makes the interrupted goroutine "call" here: it
# stores the interrupted PC at RSP-128-8 (below the 128-byte red zone, which Rust
# leaf code keeps live data in), sets RSP to that slot and RIP to gort_async_preempt.
# We save everything the interrupted code may hold -- RFLAGS, every general register,
# and the whole extended state (x87/SSE/AVX/AVX-512 and MXCSR, with XSAVE sized from
# CPUID; FXSAVE where XSAVE is missing) -- yield to the scheduler, and on resumption
# restore it all and return with `ret $128`, which pops the PC and skips the red zone,
# leaving RSP exactly as it was.
#
# DF: the interrupted code may be inside `std; rep movsb; cld` (memmove copies
# backwards). `cld` after pushfq gives the Rust code we call DF=0 as the ABI requires;
# popfq restores DF=1 for the interrupted copy.
    .section .text.gort_asm,"ax",@progbits

    .globl  gort_async_preempt
    .type   gort_async_preempt,@function
gort_async_preempt:
    pushfq                                  # RFLAGS (with DF and the arithmetic flags)
    cld                                     # the ABI's DF=0 for what we call
    pushq   %rbp                            # frame: BP marks where the GPRs start
    movq    %rsp, %rbp
    pushq   %rax                            # every general register but SP and BP
    pushq   %rbx
    pushq   %rcx
    pushq   %rdx
    pushq   %rsi
    pushq   %rdi
    pushq   %r8
    pushq   %r9
    pushq   %r10
    pushq   %r11
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    {xsave_size}(%rip), %rsp        # room for the extended state
    andq    $-64, %rsp                      # XSAVE needs 64-byte alignment (also 16 for the call)
    cmpl    $0, {use_xsave}(%rip)
    je      1f
    xorl    %eax, %eax                      # XSAVE does not clear the header: zero it
    movq    %rax, 512(%rsp)
    movq    %rax, 520(%rsp)
    movq    %rax, 528(%rsp)
    movq    %rax, 536(%rsp)
    movq    %rax, 544(%rsp)
    movq    %rax, 552(%rsp)
    movq    %rax, 560(%rsp)
    movq    %rax, 568(%rsp)
    movl    {xsave_mask_lo}(%rip), %eax     # EDX:EAX = the components to save
    movl    {xsave_mask_hi}(%rip), %edx
    xsave64 (%rsp)
    jmp     2f
1:
    fxsave64 (%rsp)                         # no XSAVE: x87, MXCSR and XMM0-15
2:
    leaq    {gopreempt_m}(%rip), %rdi       # mcall(gopreempt_m): to the global queue;
    call    gort_mcall                      # returns when the goroutine runs again
    cmpl    $0, {use_xsave}(%rip)
    je      3f
    movl    {xsave_mask_lo}(%rip), %eax
    movl    {xsave_mask_hi}(%rip), %edx
    xrstor64 (%rsp)
    jmp     4f
3:
    fxrstor64 (%rsp)
4:
    leaq    -14*8(%rbp), %rsp               # back to the saved GPRs
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %r11
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rdi
    popq    %rsi
    popq    %rdx
    popq    %rcx
    popq    %rbx
    popq    %rax
    popq    %rbp
    popfq                                   # RFLAGS as interrupted (DF included)
    ret     $128                            # to the interrupted PC, past the red zone
    .size   gort_async_preempt, .-gort_async_preempt
