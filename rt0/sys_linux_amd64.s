# sys_linux_amd64.s: system-call sequences that cannot be written in Rust because
# they run before (or change) the thread's TLS. AT&T syntax.

    .text

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
