/* Services embedded in the kernel image (LOAD_BUILTIN); the build puts their .bin files on
 * the assembler's include path. */
.section .rodata
.balign 16
#define SERVICE(sym, file) \
  .balign 16; sym##_start: .incbin file; sym##_end:

SERVICE(svc_hello, "hello.bin")
SERVICE(svc_upper, "upper.bin")
SERVICE(svc_conreader, "conreader.bin")
SERVICE(svc_conwriter, "conwriter.bin")
SERVICE(svc_cpuburn, "cpuburn.bin")
SERVICE(svc_misbehave, "misbehave.bin")

name_hello: .asciz "hello"
name_upper: .asciz "upper"
name_conreader: .asciz "conreader"
name_conwriter: .asciz "conwriter"
name_cpuburn: .asciz "cpuburn"
name_misbehave: .asciz "misbehave"

.balign 8
.global builtin_services, builtin_service_count
builtin_services:
  .quad name_hello, svc_hello_start, svc_hello_end
  .quad name_upper, svc_upper_start, svc_upper_end
  .quad name_conreader, svc_conreader_start, svc_conreader_end
  .quad name_conwriter, svc_conwriter_start, svc_conwriter_end
  .quad name_cpuburn, svc_cpuburn_start, svc_cpuburn_end
  .quad name_misbehave, svc_misbehave_start, svc_misbehave_end
builtin_service_count: .long 6
