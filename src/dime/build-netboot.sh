#!/usr/bin/env bash
# Deterministic build of the network boot firmware -> images/netboot.elf (docs/BOOT.md,
# "Network boot"). The firmware compiles the DIME kernel's own sources for the NIC, PCI, fw_cfg,
# the key file, SHA-256/HMAC and the console (listed below) beside its own (src/dime/firmware).
#   usage: src/dime/build-netboot.sh [output.elf]   (intermediates: build/netboot/, or $NETBOOT_BUILD_DIR)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/sdk/service-build.sh"   # $root, the toolchain and the flags
out="${NETBOOT_BUILD_DIR:-$root/build/netboot}"
image="${1:-$root/images/netboot.elf}"
FLAGS=("${DIME_KERNEL_FLAGS[@]}" -I "$here/firmware")
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
dime_multiboot_image "$here/firmware/linker.ld" "$out/netboot64.elf" "$image" "${objs[@]}"
echo "built $image ($(stat -c %s "$image") bytes)"
