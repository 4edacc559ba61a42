#!/usr/bin/env bash
# Builds the NIC test kernels (kernels/*.c) with the guest test library of test/guest/lib into
# test/net/guest/build/<name>.elf (Multiboot 1, ELF32 wrapper as QEMU's -kernel needs), with the
# recipe of test/guest/lib/guest-build.sh, as test/guest/build.sh. Incremental; serialized between processes with a lock.
set -euo pipefail
cd "$(dirname "$0")"

LIB=../../guest/lib
OUT=build
source "$LIB/guest-build.sh"
guest_build_lock "$OUT"
FLAGS=("${GUEST_BASE_FLAGS[@]}" "${GUEST_GPR_FLAGS[@]}" -I"$LIB" -I.)

KERNELS=()
for k in kernels/*.c; do KERNELS+=("$(basename "$k" .c)"); done

guest_images_stale "$OUT" "$LIB" kernels *.c *.h build.sh ../../../src/dime/kernel/e1000-regs.h || exit 0

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
