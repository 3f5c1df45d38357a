# rt0_linux_amd64.s: the process entry point, Go's _rt0_amd64_linux and rt0_go.
#
# The kernel starts us with argc at 0(SP), argv at 8(SP), then envp and auxv above,
# no TLS, and nothing else. Everything here runs on the OS stack, which becomes g0's.
# AT&T syntax; structure offsets are const operands from offset_of! (runtime2.rs).

    .section .text._start,"ax",@progbits
    .globl  _start
    .type   _start,@function
_start:                                     # _rt0_amd64_linux / _rt0_amd64
    movq    %rsp, {entry_sp}(%rip)          # remember SP at entry (bootinfo's entry.sp)

    # Check that the OS stack may grow 64 KiB below here (ulimit -s), on a static
    # stack: with a tiny limit there may be no room on the OS stack for even a call.
    movq    %rsp, %rbx                      # BX = entry SP (callee-saved: survives)
    leaq    ({boot_stack}+{boot_stack_size})(%rip), %rsp  # SP = top of a static stack
    movq    0(%rbx), %rdi                   # DI = argc
    leaq    8(%rbx), %rsi                   # SI = argv
    leaq    -(4*8+7)(%rbx), %rdx            # DX = SP as rt0_go will align it below:
    andq    $~15, %rdx                      #      g0.stack.hi to be
    call    {check_os_stack}                # returns only if the limit allows g0
    movq    %rbx, %rsp                      # back on the kernel's stack

    movq    0(%rsp), %rdi                   # DI = argc
    leaq    8(%rsp), %rsi                   # SI = argv
    jmp     gort_rt0_go                     # tail-jump: SP is still the kernel's
    .size   _start, .-_start

    .section .text.gort_asm,"ax",@progbits
    .type   gort_rt0_go,@function
gort_rt0_go:
    # copy arguments forward on an even stack
    movq    %rdi, %rax                      # AX = argc
    movq    %rsi, %rbx                      # BX = argv
    subq    $(4*8+7), %rsp                  # room for 2 args + 2 spare slots, +7 to round
    andq    $~15, %rsp                      # 16-byte align (SSE, SysV calls)
    movq    %rax, 16(%rsp)                  # save argc
    movq    %rbx, 24(%rsp)                  # save argv

    # create istack out of the given (operating system) stack
    leaq    {g0}(%rip), %rdi                # DI = &g0
    leaq    (-64*1024+104)(%rsp), %rbx      # BX = SP - 64KiB + 104: g0's stack floor
    movq    %rbx, {g_stackguard0}(%rdi)     # g0.stackguard0 = lo
    movq    %rbx, {g_stackguard1}(%rdi)     # g0.stackguard1 = lo
    movq    %rbx, {g_stack_lo}(%rdi)        # g0.stack.lo = lo
    movq    %rsp, {g_stack_hi}(%rdi)        # g0.stack.hi = SP

    # settls(&m0.tls): FS = &m0.tls[1], so that -8(FS) is m0.tls[0]
    leaq    {m0}(%rip), %rdi                # DI = &m0
    addq    ${m_tls}, %rdi                  # DI = &m0.tls[0]
    call    gort_settls                     # arch_prctl(ARCH_SET_FS, DI+8); dies on error
    leaq    {m0}(%rip), %rdi                # DI = &m0
    leaq    ({m_tls}+8)(%rdi), %rdi         # DI = &m0.tls[1], the FS base we asked for
    call    {tls_verify}                    # read FS back (ARCH_GET_FS); dies if it differs

    # store through it, to make sure it works
    movq    $0x123, %fs:-8                  # g(FS) = 0x123, i.e. m0.tls[0] if FS is right
    movq    {m0}+{m_tls}(%rip), %rax        # AX = m0.tls[0]
    movq    %rax, {tls_check}(%rip)         # keep what we read for bootinfo's tls.check
    cmpq    $0x123, %rax                    # did the store land in m0.tls[0]?
    je      1f                              # yes: TLS works
    movq    %rax, %rdi                      # DI = the value read back
    call    {tls_check_failed}              # fatal error, exit 2; never returns
1:
    # set the per-goroutine and per-mach "registers"
    leaq    {g0}(%rip), %rcx                # CX = &g0
    movq    %rcx, %fs:-8                    # m0.tls[0] = &g0: getg() is g0 from now on
    leaq    {m0}(%rip), %rax                # AX = &m0
    movq    %rcx, {m_g0}(%rax)              # m0.g0 = &g0
    movq    %rax, {g_m}(%rcx)               # g0.m = &m0

    cld                                     # convention: DF is always left cleared

    movl    16(%rsp), %edi                  # DI = argc
    movq    24(%rsp), %rsi                  # SI = argv
    call    {args}                          # args(argc, argv): argv, envp, auxv
    call    {osinit}                        # osinit(): ncpu, physPageSize
    call    {schedinit}                     # schedinit(): m0, heap, GOMAXPROCS, allp

    # create a new goroutine to start program
    call    {newproc_main}                  # newproc(runtime main) into p0.runnext

    # start this M
    call    gort_mstart                     # mstart never returns
    ud2                                     # abort: mstart returned
    .size   gort_rt0_go, .-gort_rt0_go
