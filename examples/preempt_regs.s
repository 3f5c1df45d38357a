# The register-integrity worker of examples/preempt.rs (`preempt regs`), Intel syntax.
#
# preempt_check_regs(iters: rdi, patterns: rsi, avx: rdx) -> rax: 0, or what was lost.
# It copies 80 pattern words (14 GPRs + 2 spare, then 16 vector registers of 32
# bytes) to an aligned frame, loads every general register but rcx (the counter,
# mirrored in the frame) and every XMM (YMM with avx) register with its pattern,
# fills the red zone below SP from them, and then, iters times, compares each
# register and red-zone word with its pattern, holds CF=1 and DF=1 over a window of
# loads and checks both survive. Codes: 1-14 a GPR (rax rbx rdx rsi rdi rbp r8-r15),
# 15 rcx, 16-31 a vector register, 40 the red zone, 41 CF, 42 DF.
# Generated (one instruction per check, no loops over registers).
    .globl preempt_check_regs
    .type preempt_check_regs,@function
preempt_check_regs:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov rax, rsp
    sub rsp, 1024
    and rsp, -64
    mov [rsp + 1000], rax
    mov [rsp + 992], rdx
    xor ecx, ecx
2:
    mov rax, [rsi + rcx*8]
    mov [rsp + rcx*8], rax
    inc rcx
    cmp rcx, 80
    jb 2b
    mov [rsp + 984], rdi
    test rdx, rdx
    jz 3f
    vmovdqa ymm0, [rsp + 128]
    vmovdqa ymm1, [rsp + 160]
    vmovdqa ymm2, [rsp + 192]
    vmovdqa ymm3, [rsp + 224]
    vmovdqa ymm4, [rsp + 256]
    vmovdqa ymm5, [rsp + 288]
    vmovdqa ymm6, [rsp + 320]
    vmovdqa ymm7, [rsp + 352]
    vmovdqa ymm8, [rsp + 384]
    vmovdqa ymm9, [rsp + 416]
    vmovdqa ymm10, [rsp + 448]
    vmovdqa ymm11, [rsp + 480]
    vmovdqa ymm12, [rsp + 512]
    vmovdqa ymm13, [rsp + 544]
    vmovdqa ymm14, [rsp + 576]
    vmovdqa ymm15, [rsp + 608]
    jmp 4f
3:
    movdqa xmm0, [rsp + 128]
    movdqa xmm1, [rsp + 160]
    movdqa xmm2, [rsp + 192]
    movdqa xmm3, [rsp + 224]
    movdqa xmm4, [rsp + 256]
    movdqa xmm5, [rsp + 288]
    movdqa xmm6, [rsp + 320]
    movdqa xmm7, [rsp + 352]
    movdqa xmm8, [rsp + 384]
    movdqa xmm9, [rsp + 416]
    movdqa xmm10, [rsp + 448]
    movdqa xmm11, [rsp + 480]
    movdqa xmm12, [rsp + 512]
    movdqa xmm13, [rsp + 544]
    movdqa xmm14, [rsp + 576]
    movdqa xmm15, [rsp + 608]
4:
    mov rax, [rsp + 16]
    mov [rsp - 16], rax
    mov rax, [rsp + 24]
    mov [rsp - 24], rax
    mov rax, [rsp + 32]
    mov [rsp - 32], rax
    mov rax, [rsp + 40]
    mov [rsp - 40], rax
    mov rax, [rsp + 48]
    mov [rsp - 48], rax
    mov rax, [rsp + 56]
    mov [rsp - 56], rax
    mov rax, [rsp + 64]
    mov [rsp - 64], rax
    mov rax, [rsp + 72]
    mov [rsp - 72], rax
    mov rax, [rsp + 80]
    mov [rsp - 80], rax
    mov rax, [rsp + 88]
    mov [rsp - 88], rax
    mov rax, [rsp + 96]
    mov [rsp - 96], rax
    mov rax, [rsp + 104]
    mov [rsp - 104], rax
    mov rax, [rsp + 0]
    mov [rsp - 112], rax
    mov rax, [rsp + 8]
    mov [rsp - 120], rax
    mov rax, [rsp + 16]
    mov [rsp - 128], rax
    mov rax, [rsp + 0]
    mov rbx, [rsp + 8]
    mov rdx, [rsp + 16]
    mov rsi, [rsp + 24]
    mov rdi, [rsp + 32]
    mov rbp, [rsp + 40]
    mov r8, [rsp + 48]
    mov r9, [rsp + 56]
    mov r10, [rsp + 64]
    mov r11, [rsp + 72]
    mov r12, [rsp + 80]
    mov r13, [rsp + 88]
    mov r14, [rsp + 96]
    mov r15, [rsp + 104]
    mov rcx, [rsp + 984]
5:
    cmp rax, [rsp + 0]
    jne .Lbad_gpr_0
    cmp rbx, [rsp + 8]
    jne .Lbad_gpr_1
    cmp rdx, [rsp + 16]
    jne .Lbad_gpr_2
    cmp rsi, [rsp + 24]
    jne .Lbad_gpr_3
    cmp rdi, [rsp + 32]
    jne .Lbad_gpr_4
    cmp rbp, [rsp + 40]
    jne .Lbad_gpr_5
    cmp r8, [rsp + 48]
    jne .Lbad_gpr_6
    cmp r9, [rsp + 56]
    jne .Lbad_gpr_7
    cmp r10, [rsp + 64]
    jne .Lbad_gpr_8
    cmp r11, [rsp + 72]
    jne .Lbad_gpr_9
    cmp r12, [rsp + 80]
    jne .Lbad_gpr_10
    cmp r13, [rsp + 88]
    jne .Lbad_gpr_11
    cmp r14, [rsp + 96]
    jne .Lbad_gpr_12
    cmp r15, [rsp + 104]
    jne .Lbad_gpr_13
    cmp rcx, [rsp + 984]
    jne .Lbad_rcx
    cmp [rsp - 16], rdx
    jne .Lbad_red
    cmp [rsp - 24], rsi
    jne .Lbad_red
    cmp [rsp - 32], rdi
    jne .Lbad_red
    cmp [rsp - 40], rbp
    jne .Lbad_red
    cmp [rsp - 48], r8
    jne .Lbad_red
    cmp [rsp - 56], r9
    jne .Lbad_red
    cmp [rsp - 64], r10
    jne .Lbad_red
    cmp [rsp - 72], r11
    jne .Lbad_red
    cmp [rsp - 80], r12
    jne .Lbad_red
    cmp [rsp - 88], r13
    jne .Lbad_red
    cmp [rsp - 96], r14
    jne .Lbad_red
    cmp [rsp - 104], r15
    jne .Lbad_red
    cmp [rsp - 112], rax
    jne .Lbad_red
    cmp [rsp - 120], rbx
    jne .Lbad_red
    cmp [rsp - 128], rdx
    jne .Lbad_red
    std
    stc
    mov rax, [rsp + 0]
    mov rbx, [rsp + 8]
    mov rdx, [rsp + 16]
    mov rsi, [rsp + 24]
    mov rdi, [rsp + 32]
    mov rbp, [rsp + 40]
    mov r8, [rsp + 48]
    mov r9, [rsp + 56]
    mov r10, [rsp + 64]
    mov r11, [rsp + 72]
    mov r12, [rsp + 80]
    mov r13, [rsp + 88]
    mov r14, [rsp + 96]
    mov r15, [rsp + 104]
    mov rax, [rsp + 0]
    mov rbx, [rsp + 8]
    mov rdx, [rsp + 16]
    mov rsi, [rsp + 24]
    mov rdi, [rsp + 32]
    mov rbp, [rsp + 40]
    mov r8, [rsp + 48]
    mov r9, [rsp + 56]
    mov r10, [rsp + 64]
    mov r11, [rsp + 72]
    jnc .Lbad_cf
    mov [rsp + 976], r11
    pushfq
    pop r11
    bt r11, 10
    jnc .Lbad_df
    cld
    mov r11, [rsp + 976]
    cmp qword ptr [rsp + 992], 0
    je 6f
    vxorps ymm0, ymm0, [rsp + 128]
    vptest ymm0, ymm0
    jnz .Lbad_vec_0
    vxorps ymm0, ymm0, [rsp + 128]
    vxorps ymm1, ymm1, [rsp + 160]
    vptest ymm1, ymm1
    jnz .Lbad_vec_1
    vxorps ymm1, ymm1, [rsp + 160]
    vxorps ymm2, ymm2, [rsp + 192]
    vptest ymm2, ymm2
    jnz .Lbad_vec_2
    vxorps ymm2, ymm2, [rsp + 192]
    vxorps ymm3, ymm3, [rsp + 224]
    vptest ymm3, ymm3
    jnz .Lbad_vec_3
    vxorps ymm3, ymm3, [rsp + 224]
    vxorps ymm4, ymm4, [rsp + 256]
    vptest ymm4, ymm4
    jnz .Lbad_vec_4
    vxorps ymm4, ymm4, [rsp + 256]
    vxorps ymm5, ymm5, [rsp + 288]
    vptest ymm5, ymm5
    jnz .Lbad_vec_5
    vxorps ymm5, ymm5, [rsp + 288]
    vxorps ymm6, ymm6, [rsp + 320]
    vptest ymm6, ymm6
    jnz .Lbad_vec_6
    vxorps ymm6, ymm6, [rsp + 320]
    vxorps ymm7, ymm7, [rsp + 352]
    vptest ymm7, ymm7
    jnz .Lbad_vec_7
    vxorps ymm7, ymm7, [rsp + 352]
    vxorps ymm8, ymm8, [rsp + 384]
    vptest ymm8, ymm8
    jnz .Lbad_vec_8
    vxorps ymm8, ymm8, [rsp + 384]
    vxorps ymm9, ymm9, [rsp + 416]
    vptest ymm9, ymm9
    jnz .Lbad_vec_9
    vxorps ymm9, ymm9, [rsp + 416]
    vxorps ymm10, ymm10, [rsp + 448]
    vptest ymm10, ymm10
    jnz .Lbad_vec_10
    vxorps ymm10, ymm10, [rsp + 448]
    vxorps ymm11, ymm11, [rsp + 480]
    vptest ymm11, ymm11
    jnz .Lbad_vec_11
    vxorps ymm11, ymm11, [rsp + 480]
    vxorps ymm12, ymm12, [rsp + 512]
    vptest ymm12, ymm12
    jnz .Lbad_vec_12
    vxorps ymm12, ymm12, [rsp + 512]
    vxorps ymm13, ymm13, [rsp + 544]
    vptest ymm13, ymm13
    jnz .Lbad_vec_13
    vxorps ymm13, ymm13, [rsp + 544]
    vxorps ymm14, ymm14, [rsp + 576]
    vptest ymm14, ymm14
    jnz .Lbad_vec_14
    vxorps ymm14, ymm14, [rsp + 576]
    vxorps ymm15, ymm15, [rsp + 608]
    vptest ymm15, ymm15
    jnz .Lbad_vec_15
    vxorps ymm15, ymm15, [rsp + 608]
    jmp 7f
6:
    mov [rsp + 976], r11
    pcmpeqd xmm0, [rsp + 128]
    pmovmskb r11d, xmm0
    cmp r11d, 0xffff
    jne .Lbad_vec_0
    movdqa xmm0, [rsp + 128]
    pcmpeqd xmm1, [rsp + 160]
    pmovmskb r11d, xmm1
    cmp r11d, 0xffff
    jne .Lbad_vec_1
    movdqa xmm1, [rsp + 160]
    pcmpeqd xmm2, [rsp + 192]
    pmovmskb r11d, xmm2
    cmp r11d, 0xffff
    jne .Lbad_vec_2
    movdqa xmm2, [rsp + 192]
    pcmpeqd xmm3, [rsp + 224]
    pmovmskb r11d, xmm3
    cmp r11d, 0xffff
    jne .Lbad_vec_3
    movdqa xmm3, [rsp + 224]
    pcmpeqd xmm4, [rsp + 256]
    pmovmskb r11d, xmm4
    cmp r11d, 0xffff
    jne .Lbad_vec_4
    movdqa xmm4, [rsp + 256]
    pcmpeqd xmm5, [rsp + 288]
    pmovmskb r11d, xmm5
    cmp r11d, 0xffff
    jne .Lbad_vec_5
    movdqa xmm5, [rsp + 288]
    pcmpeqd xmm6, [rsp + 320]
    pmovmskb r11d, xmm6
    cmp r11d, 0xffff
    jne .Lbad_vec_6
    movdqa xmm6, [rsp + 320]
    pcmpeqd xmm7, [rsp + 352]
    pmovmskb r11d, xmm7
    cmp r11d, 0xffff
    jne .Lbad_vec_7
    movdqa xmm7, [rsp + 352]
    pcmpeqd xmm8, [rsp + 384]
    pmovmskb r11d, xmm8
    cmp r11d, 0xffff
    jne .Lbad_vec_8
    movdqa xmm8, [rsp + 384]
    pcmpeqd xmm9, [rsp + 416]
    pmovmskb r11d, xmm9
    cmp r11d, 0xffff
    jne .Lbad_vec_9
    movdqa xmm9, [rsp + 416]
    pcmpeqd xmm10, [rsp + 448]
    pmovmskb r11d, xmm10
    cmp r11d, 0xffff
    jne .Lbad_vec_10
    movdqa xmm10, [rsp + 448]
    pcmpeqd xmm11, [rsp + 480]
    pmovmskb r11d, xmm11
    cmp r11d, 0xffff
    jne .Lbad_vec_11
    movdqa xmm11, [rsp + 480]
    pcmpeqd xmm12, [rsp + 512]
    pmovmskb r11d, xmm12
    cmp r11d, 0xffff
    jne .Lbad_vec_12
    movdqa xmm12, [rsp + 512]
    pcmpeqd xmm13, [rsp + 544]
    pmovmskb r11d, xmm13
    cmp r11d, 0xffff
    jne .Lbad_vec_13
    movdqa xmm13, [rsp + 544]
    pcmpeqd xmm14, [rsp + 576]
    pmovmskb r11d, xmm14
    cmp r11d, 0xffff
    jne .Lbad_vec_14
    movdqa xmm14, [rsp + 576]
    pcmpeqd xmm15, [rsp + 608]
    pmovmskb r11d, xmm15
    cmp r11d, 0xffff
    jne .Lbad_vec_15
    movdqa xmm15, [rsp + 608]
    mov r11, [rsp + 976]
7:
    dec rcx
    mov [rsp + 984], rcx
    jnz 5b
    xor eax, eax
    jmp .Lout
.Lbad_gpr_0:
    mov eax, 1
    jmp .Lout
.Lbad_gpr_1:
    mov eax, 2
    jmp .Lout
.Lbad_gpr_2:
    mov eax, 3
    jmp .Lout
.Lbad_gpr_3:
    mov eax, 4
    jmp .Lout
.Lbad_gpr_4:
    mov eax, 5
    jmp .Lout
.Lbad_gpr_5:
    mov eax, 6
    jmp .Lout
.Lbad_gpr_6:
    mov eax, 7
    jmp .Lout
.Lbad_gpr_7:
    mov eax, 8
    jmp .Lout
.Lbad_gpr_8:
    mov eax, 9
    jmp .Lout
.Lbad_gpr_9:
    mov eax, 10
    jmp .Lout
.Lbad_gpr_10:
    mov eax, 11
    jmp .Lout
.Lbad_gpr_11:
    mov eax, 12
    jmp .Lout
.Lbad_gpr_12:
    mov eax, 13
    jmp .Lout
.Lbad_gpr_13:
    mov eax, 14
    jmp .Lout
.Lbad_rcx:
    mov eax, 15
    jmp .Lout
.Lbad_vec_0:
    mov eax, 16
    jmp .Lout
.Lbad_vec_1:
    mov eax, 17
    jmp .Lout
.Lbad_vec_2:
    mov eax, 18
    jmp .Lout
.Lbad_vec_3:
    mov eax, 19
    jmp .Lout
.Lbad_vec_4:
    mov eax, 20
    jmp .Lout
.Lbad_vec_5:
    mov eax, 21
    jmp .Lout
.Lbad_vec_6:
    mov eax, 22
    jmp .Lout
.Lbad_vec_7:
    mov eax, 23
    jmp .Lout
.Lbad_vec_8:
    mov eax, 24
    jmp .Lout
.Lbad_vec_9:
    mov eax, 25
    jmp .Lout
.Lbad_vec_10:
    mov eax, 26
    jmp .Lout
.Lbad_vec_11:
    mov eax, 27
    jmp .Lout
.Lbad_vec_12:
    mov eax, 28
    jmp .Lout
.Lbad_vec_13:
    mov eax, 29
    jmp .Lout
.Lbad_vec_14:
    mov eax, 30
    jmp .Lout
.Lbad_vec_15:
    mov eax, 31
    jmp .Lout
.Lbad_red:
    mov eax, 40
    jmp .Lout
.Lbad_cf:
    mov eax, 41
    jmp .Lout
.Lbad_df:
    mov eax, 42
    jmp .Lout
.Lout:
    cld
    cmp qword ptr [rsp + 992], 0
    je 8f
    vzeroupper
8:
    mov rsp, [rsp + 1000]
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
    .size preempt_check_regs, . - preempt_check_regs
