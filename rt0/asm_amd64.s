# asm_amd64.s: switching between goroutines and g0, after Go's asm_amd64.s.
#
# A gobuf (runtime2.rs) holds what the SysV ABI promises survives a call: SP, PC, BP,
# RBX, R12-R15, MXCSR and the x87 control word. Every switch happens at a call
# boundary (mcall saves the caller's context as if it had returned), so the other
# registers are dead and need no saving. The current g is always -8(FS).

    .section .text.gort_asm,"ax",@progbits

# mcall(fn): switch from curg to g0's stack and call fn(curg) there. fn must not
# return; the goroutine resumes later by gogo(&g.sched), which returns from mcall.
# Called on a goroutine stack (never on g0) with DI = fn.
    .globl  gort_mcall
    .type   gort_mcall,@function
gort_mcall:
    movq    %fs:-8, %rax                    # AX = g
    movq    0(%rsp), %rcx                   # CX = caller's PC (our return address)
    movq    %rcx, ({g_sched}+{gobuf_pc})(%rax)   # g.sched.pc = return address
    leaq    8(%rsp), %rcx                   # CX = caller's SP after the return
    movq    %rcx, ({g_sched}+{gobuf_sp})(%rax)   # g.sched.sp
    movq    %rax, ({g_sched}+{gobuf_g})(%rax)    # g.sched.g = g
    movq    $0, ({g_sched}+{gobuf_ctxt})(%rax)   # no entry argument on resume
    movq    %rbp, ({g_sched}+{gobuf_bp})(%rax)   # callee-saved registers
    movq    %rbx, ({g_sched}+{gobuf_rbx})(%rax)
    movq    %r12, ({g_sched}+{gobuf_r12})(%rax)
    movq    %r13, ({g_sched}+{gobuf_r13})(%rax)
    movq    %r14, ({g_sched}+{gobuf_r14})(%rax)
    movq    %r15, ({g_sched}+{gobuf_r15})(%rax)
    stmxcsr ({g_sched}+{gobuf_fpcsr})(%rax)      # SSE control/status (callee-saved bits)
    fnstcw  ({g_sched}+{gobuf_fpcsr}+4)(%rax)    # x87 control word

    # switch to m->g0 and its stack, call fn(g)
    movq    {g_m}(%rax), %rcx               # CX = g.m
    movq    {m_g0}(%rcx), %rdx              # DX = m.g0
    cmpq    %rdx, %rax                      # mcall on g0 is a bug
    jne     1f
    andq    $~15, %rsp                      # align for the call
    call    {badmcall}                      # fatal error; never returns
1:
    movq    %rdx, %fs:-8                    # setg(g0)
    movq    ({g_sched}+{gobuf_sp})(%rdx), %rsp   # SP = g0.sched.sp (16-byte aligned)
    movq    %rdi, %rcx                      # CX = fn
    movq    %rax, %rdi                      # DI = g: fn's argument
    xorl    %ebp, %ebp                      # end of the frame chain for debuggers
    call    *%rcx                           # fn(g)
    ud2                                     # fn returned: impossible (badmcall2)
    .size   gort_mcall, .-gort_mcall

# gogo(DI = &gobuf): restore the context in the gobuf and jump to its PC. The gobuf's
# g becomes the thread's g. A fresh goroutine finds its entry argument in DI.
    .globl  gort_gogo
    .type   gort_gogo,@function
gort_gogo:
    movq    {gobuf_g}(%rdi), %rdx           # DX = gobuf.g
    movq    %rdx, %fs:-8                    # setg(gobuf.g)
    movq    {gobuf_sp}(%rdi), %rsp          # restore SP
    movq    {gobuf_bp}(%rdi), %rbp          # restore callee-saved registers
    movq    {gobuf_rbx}(%rdi), %rbx
    movq    {gobuf_r12}(%rdi), %r12
    movq    {gobuf_r13}(%rdi), %r13
    movq    {gobuf_r14}(%rdi), %r14
    movq    {gobuf_r15}(%rdi), %r15
    ldmxcsr {gobuf_fpcsr}(%rdi)             # SSE control/status
    fldcw   ({gobuf_fpcsr}+4)(%rdi)         # x87 control word
    movq    {gobuf_pc}(%rdi), %rax          # AX = PC to resume at
    movq    {gobuf_ctxt}(%rdi), %rdi        # DI = entry argument (fresh goroutine) or 0
    jmp     *%rax                           # go
    .size   gort_gogo, .-gort_gogo

# mstart: the start of every M's g0, called by rt0_go on m0 (and by the clone child
# path on other Ms). Records g0's scheduling SP for mcall, then runs mstart0, which
# never returns.
    .globl  gort_mstart
    .type   gort_mstart,@function
gort_mstart:
    movq    %fs:-8, %rax                    # AX = g0
    andq    $~15, %rsp                      # 16-byte align; frames above SP are kept
    movq    %rsp, ({g_sched}+{gobuf_sp})(%rax)   # g0.sched.sp: where mcall lands
    call    {mstart0}                       # mstart0() -> !
    ud2                                     # never reached
    .size   gort_mstart, .-gort_mstart

# goexit: the return address of every goroutine's entry function. Its first byte is a
# NOP so that the return PC (goexit+1) lies inside goexit, as in Go.
    .globl  gort_goexit
    .type   gort_goexit,@function
gort_goexit:
    nop                                     # the entry function "returns" just after this
    call    {goexit1}                       # goexit1() -> !: finish the goroutine on g0
    ud2                                     # never reached
    .size   gort_goexit, .-gort_goexit

# gosave(DI = &gobuf): save the caller's context in the gobuf, as if the caller had
# just returned from this call: resuming it with gogo continues after the call.
# Leaves every register as it was (but AX, CX). Runs on any stack.
    .globl  gort_gosave
    .type   gort_gosave,@function
gort_gosave:
    movq    0(%rsp), %rcx                   # CX = caller's PC
    movq    %rcx, {gobuf_pc}(%rdi)          # gobuf.pc
    leaq    8(%rsp), %rcx                   # CX = caller's SP after the return
    movq    %rcx, {gobuf_sp}(%rdi)          # gobuf.sp
    movq    %fs:-8, %rax                    # AX = g
    movq    %rax, {gobuf_g}(%rdi)           # gobuf.g = g
    movq    $0, {gobuf_ctxt}(%rdi)          # no entry argument on resume
    movq    %rbp, {gobuf_bp}(%rdi)          # callee-saved registers
    movq    %rbx, {gobuf_rbx}(%rdi)
    movq    %r12, {gobuf_r12}(%rdi)
    movq    %r13, {gobuf_r13}(%rdi)
    movq    %r14, {gobuf_r14}(%rdi)
    movq    %r15, {gobuf_r15}(%rdi)
    stmxcsr {gobuf_fpcsr}(%rdi)             # SSE control/status
    fnstcw  ({gobuf_fpcsr}+4)(%rdi)         # x87 control word
    ret
    .size   gort_gosave, .-gort_gosave

# systemstack(DI = fn, SI = arg): run fn(arg) on the M's g0 stack and come back. On
# g0 already (or with no g0 yet), fn is called directly. The goroutine's context is
# saved in g.sched (for tracebacks) while fn runs; fn must not switch goroutines.
    .globl  gort_systemstack
    .type   gort_systemstack,@function
gort_systemstack:
    movq    %fs:-8, %rax                    # AX = g
    movq    {g_m}(%rax), %rcx               # CX = g.m
    movq    {m_g0}(%rcx), %rdx              # DX = m.g0
    cmpq    %rdx, %rax                      # already on g0?
    je      2f                              # yes: just call
    pushq   %rbp                            # frame for debuggers; SP now 16-aligned
    movq    %rsp, %rbp
    pushq   %rax                            # save g (callee-saved slot on our stack)
    pushq   %rdi                            # save fn
    pushq   %rsi                            # save arg
    leaq    {g_sched}(%rax), %rdi           # DI = &g.sched
    call    gort_gosave                     # g.sched = here (systemstack_switch)
    popq    %rsi                            # SI = arg
    popq    %rcx                            # CX = fn
    movq    0(%rsp), %rax                   # AX = g (still saved at 0(SP))
    movq    {g_m}(%rax), %rdx               # DX = g.m
    movq    {m_g0}(%rdx), %rdx              # DX = g0
    movq    %rdx, %fs:-8                    # setg(g0)
    movq    %rsp, %r8                       # R8 = goroutine SP (holds saved g)
    movq    ({g_sched}+{gobuf_sp})(%rdx), %rsp   # switch to g0's stack (16-aligned)
    pushq   %r8                             # remember the goroutine SP on g0's stack
    subq    $8, %rsp                        # keep 16-byte alignment for the call
    movq    %rsi, %rdi                      # DI = arg
    call    *%rcx                           # fn(arg) on g0
    addq    $8, %rsp                        # drop the padding
    popq    %rsp                            # back to the goroutine's stack
    popq    %rax                            # AX = g
    movq    %rax, %fs:-8                    # setg(g)
    popq    %rbp                            # restore frame pointer
    ret
2:
    movq    %rdi, %rax                      # AX = fn
    movq    %rsi, %rdi                      # DI = arg
    jmp     *%rax                           # tail call: fn returns to our caller
    .size   gort_systemstack, .-gort_systemstack
