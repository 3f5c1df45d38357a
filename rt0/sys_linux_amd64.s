# sys_linux_amd64.s: system-call sequences that cannot be written in Rust because
# they run before (or change) the thread's TLS. AT&T syntax.

    .section .text.gort_asm,"ax",@progbits

# settls(DI = &m.tls[0]): set the FS base to &m.tls[1] with a raw arch_prctl, so that
# -8(FS) addresses m.tls[0] (ELF TLS convention). Called with a 16-byte aligned SP
# before the call; clobbers AX, CX, DI, SI, R11. On failure prints a fatal error and
# exits (Go crashes here; we say why).
    .globl  gort_settls
    .type   gort_settls,@function
gort_settls:
    addq    $8, %rdi                        # ELF wants to use -8(FS)
    movq    %rdi, %rsi                      # SI = addr: second argument
    movq    ${arch_set_fs}, %rdi            # DI = ARCH_SET_FS: first argument
    movq    ${sys_arch_prctl}, %rax         # AX = SYS_arch_prctl
    syscall                                 # arch_prctl(ARCH_SET_FS, addr)
    cmpq    $0xfffffffffffff001, %rax       # -4095 <= AX < 0 means -errno
    jae     1f                              # failed
    ret
1:
    movq    %rax, %rdi                      # DI = -errno
    andq    $~15, %rsp                      # align for the call (we never come back)
    call    {settls_failed}                 # fatal error, exit 2; never returns
    ud2
    .size   gort_settls, .-gort_settls

# clone(DI = flags, SI = stk, DX = mp, CX = gp, R8 = fn): start an OS thread whose
# stack is stk, whose FS base is &mp.tls[1] (CLONE_SETTLS) and whose g is gp (mp's
# g0), running fn (mstart). The whole child path is here: the child must never
# return into a Rust frame of the parent, whose stack it does not have.
# Returns (in the parent) the child's tid or -errno.
    .globl  gort_clone
    .type   gort_clone,@function
gort_clone:
    pushq   %r12                            # R12 is callee-saved: keep the parent's
    movq    %rcx, %r9                       # R9 = gp: registers survive into the child
    movq    %r8, %r12                       # R12 = fn
    leaq    ({m_tls}+8)(%rdx), %r8          # R8 = tls: &mp.tls[1], so -8(FS) = tls[0]
    xorl    %edx, %edx                      # DX = parent_tid: not used
    xorl    %r10d, %r10d                    # R10 = child_tid: not used
    movl    ${sys_clone}, %eax              # AX = SYS_clone
    syscall                                 # clone(flags, stk, 0, 0, tls)
    testq   %rax, %rax                      # 0 in the child
    jz      1f
    popq    %r12                            # parent: restore R12
    ret                                     # return tid or -errno
1:
    # In the child: SP = stk (16-byte aligned), FS = &mp.tls[1].
    movq    %r9, %fs:-8                     # setg(gp): g0 of the new M
    xorl    %ebp, %ebp                      # end of the frame chain
    call    *%r12                           # fn(): mstart, which never returns
    movl    $111, %edi                      # if it did: exit this thread, status 111
    movl    ${sys_exit}, %eax               # SYS_exit (the thread only)
    syscall
    ud2
    .size   gort_clone, .-gort_clone

# sigtramp(DI = sig, SI = info, DX = ucontext): the entry of every signal handler.
# The kernel (or qemu-user 7.2, which enters misaligned by 8) gives no alignment
# promise we can trust, so realign SP to 16 before calling the Rust handler. Runs on
# the M's signal stack (sigaltstack).
    .globl  gort_sigtramp
    .type   gort_sigtramp,@function
gort_sigtramp:
    pushq   %rbp                            # save the interrupted BP
    movq    %rsp, %rbp                      # BP = SP, to undo the alignment below
    andq    $~15, %rsp                      # 16-byte align for the call
    call    {sighandler}                    # sighandler(sig, info, ctx)
    movq    %rbp, %rsp                      # undo the alignment
    popq    %rbp                            # restore BP
    ret                                     # to sa_restorer: sigreturn
    .size   gort_sigtramp, .-gort_sigtramp

# sigreturn: the sa_restorer of every handler: rt_sigreturn restores the interrupted
# context from the frame the kernel pushed. Never returns.
    .globl  gort_sigreturn
    .type   gort_sigreturn,@function
gort_sigreturn:
    movl    ${sys_rt_sigreturn}, %eax       # AX = SYS_rt_sigreturn
    syscall                                 # rt_sigreturn()
    ud2                                     # not reached
    .size   gort_sigreturn, .-gort_sigreturn
