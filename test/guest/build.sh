#!/usr/bin/env bash
# Builds every guest test kernel into test/guest/build/<name>.elf (Multiboot 1, ELF32 wrapper
# around 64-bit code). Safe to run concurrently: builds are serialized with a lock.
set -euo pipefail
cd "$(dirname "$0")"

OUT=build
source lib/guest-build.sh
guest_build_lock "$OUT"

BASE_FLAGS=("${GUEST_BASE_FLAGS[@]}" -Ilib)
GPR_FLAGS=("${GUEST_GPR_FLAGS[@]}")
SSE_FLAGS=("${GUEST_SSE_FLAGS[@]}")

LIB_SRCS=(lib/*.c lib/*.S)
KERNELS=()
for k in kernels/*.c; do KERNELS+=("$(basename "$k" .c)"); done

# up to date when every image is newer than every source
guest_images_stale "$OUT" lib kernels build.sh || exit 0

TMP=$(mktemp -d "$OUT/tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/lib"

LIB_OBJS=()
for src in "${LIB_SRCS[@]}"; do
  obj="$TMP/lib/$(basename "$src").o"
  "$CC" "${BASE_FLAGS[@]}" "${GPR_FLAGS[@]}" -c "$src" -o "$obj"
  LIB_OBJS+=("$obj")
done

for k in "${KERNELS[@]}"; do
  if [[ $k == sse2 ]]; then flags=("${SSE_FLAGS[@]}"); else flags=("${GPR_FLAGS[@]}"); fi
  # the gdb stub's test target carries line and variable information
  if [[ $k == gdb-target ]]; then flags+=(-g -Og); fi
  "$CC" "${BASE_FLAGS[@]}" "${flags[@]}" -c "kernels/$k.c" -o "$TMP/$k.o"
  "$LD" -m elf_x86_64 -nostdlib -static --build-id=none -z max-page-size=0x1000 \
    -z noexecstack --no-warn-rwx-segments -T lib/linker.ld -o "$TMP/$k.elf64" "$TMP/$k.o" "${LIB_OBJS[@]}"
  # every interrupt stub must be exactly 16 bytes long (the IDT is built on that spacing)
  stubs=$(nm "$TMP/$k.elf64" | awk '$3=="isr_stubs_start"{s=$1} $3=="isr_common"{c=$1} END{print s" "c}')
  read -r s c <<<"$stubs"
  if (( 16#$c - 16#$s != 4096 )); then echo "build.sh: interrupt stubs are not 16 bytes apart" >&2; exit 1; fi
  # QEMU's -kernel takes Multiboot images only as ELF32 (or a.out kludge)
  "$OBJCOPY" -O elf32-i386 "$TMP/$k.elf64" "$TMP/$k.elf"
  mv "$TMP/$k.elf" "$OUT/$k.elf"
  cp "$TMP/$k.elf64" "$OUT/$k.elf64"
done
