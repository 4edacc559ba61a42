#!/usr/bin/env bash
# Builds the MIPS benchmark: one workload object linked into a native program and into a
# Multiboot guest kernel (using the guest test library). Output in bench/mips/build/.
# Usage: build.sh [WORKLOAD]: workload.c (default, outputs mips-*) or coremark.c (coremark-*).
set -euo pipefail
cd "$(dirname "$0")"
OUT=build
mkdir -p "$OUT"
LIB=../../test/guest/lib
FLAGS=(-std=gnu11 -m64 -O2 -ffreestanding -fno-stack-protector -nostdlib -fno-pic -fno-pie -mno-red-zone
  -mcmodel=small -fno-asynchronous-unwind-tables -fno-common -fno-ident -mgeneral-regs-only
  -fno-tree-loop-distribute-patterns -I"$LIB")
SRC=${1:-workload.c}
NAME=mips
[ "$SRC" = workload.c ] || NAME=$(basename "$SRC" .c)
gcc "${FLAGS[@]}" -c "$SRC" -o "$OUT/$NAME-workload.o"
gcc -O2 -no-pie native-main.c "$OUT/$NAME-workload.o" -o "$OUT/$NAME-native"
objs=()
for src in "$LIB"/*.c "$LIB"/*.S; do
  o="$OUT/lib-$(basename "$src").o"
  gcc "${FLAGS[@]}" -c "$src" -o "$o"
  objs+=("$o")
done
gcc "${FLAGS[@]}" -c guest-main.c -o "$OUT/guest-main.o"
ld -m elf_x86_64 -nostdlib -static --build-id=none -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments \
  -T "$LIB/linker.ld" -o "$OUT/$NAME-guest.elf64" "$OUT/guest-main.o" "$OUT/$NAME-workload.o" "${objs[@]}"
objcopy -O elf32-i386 "$OUT/$NAME-guest.elf64" "$OUT/$NAME-guest.elf"
