#!/usr/bin/env bash
# Deterministic build of the network boot firmware -> images/netboot.elf (docs/BOOT.md,
# "Network boot"). The firmware compiles the DIME kernel's own sources for the NIC, PCI, fw_cfg,
# the key file, SHA-256/HMAC and the console (listed below) beside its own (src/dime/firmware).
#   usage: src/dime/build-netboot.sh [output.elf]   (intermediates: build/netboot/, or $NETBOOT_BUILD_DIR)
set -euo pipefail
export LC_ALL=C SOURCE_DATE_EPOCH=0
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${NETBOOT_BUILD_DIR:-$root/build/netboot}"
image="${1:-$root/images/netboot.elf}"
CC="${CC:-gcc}"; LD="${LD:-ld}"; OBJCOPY="${OBJCOPY:-objcopy}"

source "$here/sdk/service-build.sh"
FLAGS=("${DIME_COMMON_FLAGS[@]}" --param=min-pagesize=0 -fno-pic -fno-pie -mcmodel=small -I "$here/kernel" -I "$here/firmware")
shared=(crypto.c e1000.c entropy.c fwcfg.c keyfile.c lib.c pci.c pit.c serial.c)

rm -rf "$out"
mkdir -p "$out" "$(dirname "$image")"
objs=()
for src in "${shared[@]}"; do
  "$CC" "${FLAGS[@]}" -c "$here/kernel/$src" -o "$out/kernel-${src%.*}.o"
  objs+=("$out/kernel-${src%.*}.o")
done
for src in $(cd "$here/firmware" && ls *.S *.c | sort); do
  "$CC" "${FLAGS[@]}" -c "$here/firmware/$src" -o "$out/${src%.*}.o"
  objs+=("$out/${src%.*}.o")
done
"$LD" -m elf_x86_64 -nostdlib -static --build-id=none -z max-page-size=0x1000 -z noexecstack \
  -T "$here/firmware/linker.ld" -o "$out/netboot64.elf" "${objs[@]}"
# a Multiboot 1 image, like the kernel: QEMU's -kernel takes it only as ELF32
"$OBJCOPY" -O elf32-i386 "$out/netboot64.elf" "$image"
echo "built $image ($(stat -c %s "$image") bytes)"
