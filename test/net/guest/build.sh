#!/usr/bin/env bash
# Builds the NIC test kernels (kernels/*.c) with the guest test library of test/guest/lib into
# test/net/guest/build/<name>.elf (Multiboot 1, ELF32 wrapper as QEMU's -kernel needs), with the
# same flags as test/guest/build.sh. Incremental; serialized between processes with a lock.
set -euo pipefail
cd "$(dirname "$0")"

LIB=../../guest/lib
OUT=build
mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9

CC=${CC:-gcc}
LD=${LD:-ld}
OBJCOPY=${OBJCOPY:-objcopy}
FLAGS=(-std=gnu11 -m64 -O2 -ffreestanding -fno-stack-protector -nostdlib -fno-pic -fno-pie
  -mno-red-zone -mcmodel=small -fno-asynchronous-unwind-tables -fno-unwind-tables
  -fno-tree-loop-distribute-patterns -fno-common -fno-ident -Wall -Wextra -Werror
  -mgeneral-regs-only -I"$LIB" -I.)

KERNELS=()
for k in kernels/*.c; do KERNELS+=("$(basename "$k" .c)"); done

stale=0
for k in "${KERNELS[@]}"; do
  img="$OUT/$k.elf"
  if [[ ! -f "$img" ]] || [[ -n "$(find "$LIB" kernels *.c *.h build.sh -newer "$img" -type f -print -quit)" ]]; then
    stale=1
    break
  fi
done
if [[ $stale == 0 ]]; then exit 0; fi

TMP=$(mktemp -d "$OUT/tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
OBJS=()
for src in "$LIB"/*.c "$LIB"/*.S *.c; do
  obj="$TMP/$(basename "$src").o"
  "$CC" "${FLAGS[@]}" -c "$src" -o "$obj"
  OBJS+=("$obj")
done
for k in "${KERNELS[@]}"; do
  "$CC" "${FLAGS[@]}" -c "kernels/$k.c" -o "$TMP/$k.o"
  "$LD" -m elf_x86_64 -nostdlib -static --build-id=none -z max-page-size=0x1000 \
    -z noexecstack --no-warn-rwx-segments -T "$LIB/linker.ld" -o "$TMP/$k.elf64" "$TMP/$k.o" "${OBJS[@]}"
  "$OBJCOPY" -O elf32-i386 "$TMP/$k.elf64" "$TMP/$k.elf"
  mv "$TMP/$k.elf" "$OUT/$k.elf"
done
