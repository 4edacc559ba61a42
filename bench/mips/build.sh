#!/usr/bin/env bash
# Builds the MIPS benchmark: one workload object linked into a native program and into a
# Multiboot guest kernel (using the guest test library). Output in bench/mips/build/.
set -euo pipefail
cd "$(dirname "$0")"
OUT=build
mkdir -p "$OUT"
LIB=../../test/guest/lib
FLAGS=(-std=gnu11 -m64 -O2 -ffreestanding -fno-stack-protector -nostdlib -fno-pic -fno-pie -mno-red-zone
  -mcmodel=small -fno-asynchronous-unwind-tables -fno-common -fno-ident -mgeneral-regs-only
  -fno-tree-loop-distribute-patterns -I"$LIB")
gcc "${FLAGS[@]}" -c workload.c -o "$OUT/workload.o"
gcc -O2 -no-pie native-main.c "$OUT/workload.o" -o "$OUT/mips-native"
objs=()
for src in "$LIB"/*.c "$LIB"/*.S; do
  o="$OUT/lib-$(basename "$src").o"
  gcc "${FLAGS[@]}" -c "$src" -o "$o"
  objs+=("$o")
done
gcc "${FLAGS[@]}" -c guest-main.c -o "$OUT/guest-main.o"
ld -m elf_x86_64 -nostdlib -static --build-id=none -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments \
  -T "$LIB/linker.ld" -o "$OUT/mips-guest.elf64" "$OUT/guest-main.o" "$OUT/workload.o" "${objs[@]}"
objcopy -O elf32-i386 "$OUT/mips-guest.elf64" "$OUT/mips-guest.elf"
