#!/usr/bin/env bash
# Deterministic build of the DIME kernel and its embedded services -> images/dime.elf
#   usage: src/dime/build.sh [output.elf]     (intermediates go to build/dime/, or $DIME_BUILD_DIR)
# Same sources + same toolchain = same bytes: no build-id, no debug info, fixed flags and
# file order, source paths mapped to relative ones.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/sdk/service-build.sh"   # $root, the toolchain and the flags
out="${DIME_BUILD_DIR:-$root/build/dime}"
image="${1:-$root/images/dime.elf}"

rm -rf "$out"
mkdir -p "$out/kernel" "$out/svc" "$(dirname "$image")"

# ---- services (ring 3), each a flat binary with the DSV1 header first ----
# the one list: kernel/builtin_services.S embeds these, in this order (DIME_SERVICES)
services=(hello upper conreader conwriter cpuburn misbehave filer globals)
dime_sdk_objects "$out/svc"
for s in "${services[@]}"; do dime_service "$here/services/$s.c" "$out/svc" "$s"; done
# the same service images, for loading over the network
svcdir="$(dirname "$image")/services"
mkdir -p "$svcdir"
for s in "${services[@]}"; do cp "$out/svc/$s.bin" "$svcdir/$s.bin"; done

# ---- kernel ----
objs=()
for src in $(cd "$here/kernel" && ls *.S *.c | sort); do
  o="$out/kernel/${src%.*}.o"
  "$CC" "${DIME_KERNEL_FLAGS[@]}" "-Wa,-I,$out/svc" "-DDIME_SERVICES=$(IFS=,; echo "${services[*]}")" -c "$here/kernel/$src" -o "$o"
  objs+=("$o")
done
dime_multiboot_image "$here/kernel/linker.ld" "$out/dime64.elf" "$image" "${objs[@]}"
# the bytes depend on the toolchain: record which one made them
{ "$CC" --version | head -1; "$LD" --version | head -1; "$OBJCOPY" --version | head -1; } > "${image%.elf}.toolchain"
echo "built $image ($(stat -c %s "$image") bytes)"
# the network boot firmware (shares kernel sources), beside the kernel
NETBOOT_BUILD_DIR="$out/netboot" bash "$here/build-netboot.sh" "$(dirname "$image")/netboot.elf"
