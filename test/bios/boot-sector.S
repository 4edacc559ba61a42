/* A 512-byte MBR guest for firmware tests: the BIOS loads it at 0000:7C00 with the boot drive
 * in DL. It prints on COM1 by port I/O (no BIOS video), reads the disk's second sector through
 * INT 13h (so BIOS disk services are proven, not just the firmware's own load), prints the
 * text found there, the base memory INT 12h reports and whether the firmware left an ACPI RSDP
 * in 0xE0000-0xFFFFF, then leaves through isa-debug-exit
 * (status 0x21 = (0x10 << 1) | 1). Assembled with GNU as at test time:
 *   as --32 -o mbr.o boot-sector.S && ld -m elf_i386 -Ttext=0x7c00 --oformat=binary -o mbr.bin mbr.o
 * The disk image is this sector followed by a sector holding a NUL-terminated line. */
        .code16
        .text
        .globl _start
_start:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    $0x7c00, %sp
        sti
        movb    %dl, boot_drive

        movw    $hello, %si
        call    puts

        /* INT 13h AH=02h: read 1 sector, cylinder 0 head 0 sector 2, to 0000:7E00 */
        movw    $0x0201, %ax
        movw    $0x0002, %cx
        movb    $0, %dh
        movb    boot_drive, %dl
        movw    $0x7e00, %bx
        int     $0x13
        jc      disk_error
        movw    $0x7e00, %si
        call    puts

        /* INT 12h: conventional memory in KiB */
        movw    $basemem, %si
        call    puts
        int     $0x12
        call    putdec
        movw    $kib, %si
        call    puts

        /* ACPI: an RSDP ("RSD PTR ", 20-byte checksum zero) on a 16-byte boundary in
         * 0xE0000-0xFFFFF, where the BIOS must leave it (BareMetal OS's Pure64 looks only there) */
        movw    $0xe000, %ax
scan:   movw    %ax, %es
        cmpl    $0x20445352, %es:0
        jne     next
        cmpl    $0x20525450, %es:4
        jne     next
        xorb    %bl, %bl
        xorw    %si, %si
sum:    addb    %es:(%si), %bl
        incw    %si
        cmpw    $20, %si
        jne     sum
        testb   %bl, %bl
        jz      found
next:   incw    %ax
        jnz     scan
        movw    $noacpi, %si
        jmp     report
found:  movw    $acpiok, %si
report: call    puts

        movw    $0xf4, %dx
        movb    $0x10, %al
        outb    %al, %dx
halt:   cli
        hlt
        jmp     halt

disk_error:
        movw    $diskerr, %si
        call    puts
        movw    $0xf4, %dx
        movb    $0x01, %al
        outb    %al, %dx
        jmp     halt

/* print the NUL-terminated string at DS:SI on COM1 */
puts:   lodsb
        testb   %al, %al
        jz      1f
        call    putc
        jmp     puts
1:      ret

/* print AL on COM1 once the transmitter holding register is empty (LSR bit 5) */
putc:   pushw   %dx
        pushw   %ax
        movw    $0x3fd, %dx
2:      inb     %dx, %al
        testb   $0x20, %al
        jz      2b
        popw    %ax
        movw    $0x3f8, %dx
        outb    %al, %dx
        popw    %dx
        ret

/* print AX in decimal */
putdec: movw    $10, %bx
        xorw    %cx, %cx
3:      xorw    %dx, %dx
        divw    %bx
        pushw   %dx
        incw    %cx
        testw   %ax, %ax
        jnz     3b
4:      popw    %ax
        addb    $'0', %al
        call    putc
        loop    4b
        ret

hello:   .asciz "MBR: booted by the BIOS\r\n"
basemem: .asciz "MBR: INT 12h base memory "
kib:     .asciz " KiB\r\n"
diskerr: .asciz "MBR: INT 13h read failed\r\n"
acpiok:  .asciz "MBR: ACPI RSDP in the BIOS area, checksum ok\r\n"
noacpi:  .asciz "MBR: no ACPI RSDP in 0xE0000-0xFFFFF\r\n"
boot_drive: .byte 0

        .org    510
        .word   0xaa55
