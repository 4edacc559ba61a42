/* Services embedded in the kernel image (LOAD_BUILTIN). The list is build.sh's `services`
 * array, passed in as DIME_SERVICES (comma-separated); the build puts their .bin files on the
 * assembler's include path. Layout: the images, then their names, then the table
 * {name, start, end} the kernel searches. */
#ifndef DIME_SERVICES
#error "DIME_SERVICES (the service list) comes from src/dime/build.sh"
#endif
.section .rodata
.irp s, DIME_SERVICES
  .balign 16; svc_\s\()_start: .incbin "\s\().bin"; svc_\s\()_end:
.endr

.irp s, DIME_SERVICES
  name_\s: .asciz "\s"
.endr

.balign 8
.global builtin_services, builtin_service_count
builtin_services:
.irp s, DIME_SERVICES
  .quad name_\s, svc_\s\()_start, svc_\s\()_end
.endr
builtin_service_count: .long (. - builtin_services) / 24
