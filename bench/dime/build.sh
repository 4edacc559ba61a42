#!/usr/bin/env bash
# Builds the benchmark's DIME service images with the DIME SDK (src/dime/sdk), the same flags
# as src/dime/build.sh uses for services -> bench/dime/build/<name>.bin (loaded over the network).
set -euo pipefail
export LC_ALL=C SOURCE_DATE_EPOCH=0
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
sdk="$root/src/dime/sdk"
out="$here/build"
CC="${CC:-gcc}"; LD="${LD:-ld}"; OBJCOPY="${OBJCOPY:-objcopy}"
SFLAGS=(-std=gnu11 -O2 -g0 -ffreestanding -fno-stack-protector -fno-asynchronous-unwind-tables
  -fno-unwind-tables -fcf-protection=none -fno-tree-loop-distribute-patterns -mno-red-zone
  -mgeneral-regs-only -fno-common -Wall -Wextra -Werror -Wno-unused-parameter
  "-ffile-prefix-map=$root=." -I "$root/src/dime/include" -fpie -I "$sdk")
mkdir -p "$out"
"$CC" "${SFLAGS[@]}" -c "$sdk/crt0.S" -o "$out/crt0.o"
"$CC" "${SFLAGS[@]}" -c "$sdk/dime_sdk.c" -o "$out/dime_sdk.o"
for s in pingpong; do
  "$CC" "${SFLAGS[@]}" -c "$here/$s.c" -o "$out/$s.o"
  "$LD" -m elf_x86_64 -nostdlib -static --no-dynamic-linker --build-id=none -z max-page-size=0x1000 \
    -z noexecstack --no-warn-rwx-segments -T "$sdk/service.ld" -o "$out/$s.elf" \
    "$out/crt0.o" "$out/$s.o" "$out/dime_sdk.o"
  "$OBJCOPY" -O binary "$out/$s.elf" "$out/$s.bin"
done
