/* Service start-up: the DSV1 image header, then _start -> main(dime, cores) -> exit. */
.section .svc_header, "a"
    .long 0x31565344                    /* "DSV1" */
    .long 32                            /* header length */
    .quad _start                        /* entry */
    .long __image_len                   /* file bytes */
    .long __mem_len                     /* memory bytes (image + zeroed data) */
    .long 65536                         /* stack */
    .long __text_len                    /* code bytes (executable); the rest is NX */

.section .text.start, "ax"
.global _start
_start:
    /* rdi = dime | cores << 16, rsp = top of our memory, 16-byte aligned */
    mov %rdi, %rsi
    and $0xFFFF, %edi
    shr $16, %rsi
    xor %ebp, %ebp
    call main
    mov %rax, %rdi
    xor %eax, %eax                      /* SYS_EXIT */
    int $0x80
1:  jmp 1b
