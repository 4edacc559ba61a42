# The one recipe for DIME images, sourced by src/dime/build.sh (the kernel and its built-in
# services), src/dime/build-netboot.sh (the network boot firmware) and bench/dime/build.sh
# (services loaded over the network): the toolchain, compiler flags, the SDK objects, the link
# of a service at USER_BASE (a flat binary with the DSV1 header first) and of a Multiboot image.
# Sets $root (the repository) and the deterministic environment; $CC, $LD and $OBJCOPY may be
# set by the caller.

export LC_ALL=C SOURCE_DATE_EPOCH=0
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
CC="${CC:-gcc}"; LD="${LD:-ld}"; OBJCOPY="${OBJCOPY:-objcopy}"
DIME_SDK="$root/src/dime/sdk"
# flags shared by the kernel and its services
DIME_COMMON_FLAGS=(-std=gnu11 -O2 -g0 -ffreestanding -fno-stack-protector -fno-asynchronous-unwind-tables
  -fno-unwind-tables -fcf-protection=none -fno-tree-loop-distribute-patterns -mno-red-zone
  -mgeneral-regs-only -fno-common -Wall -Wextra -Werror -Wno-unused-parameter
  "-ffile-prefix-map=$root=." -I "$root/src/dime/include")
# kernel-mode code (the kernel and the firmware) runs below 2 GiB at the addresses it is linked at
DIME_KERNEL_FLAGS=("${DIME_COMMON_FLAGS[@]}" --param=min-pagesize=0 -fno-pic -fno-pie -mcmodel=small -I "$root/src/dime/kernel")
# services are linked at USER_BASE (512 GiB): compile position-independent so no 32-bit
# absolute addresses are needed, then link statically at that address
DIME_SERVICE_FLAGS=("${DIME_COMMON_FLAGS[@]}" -fpie -I "$DIME_SDK")

# dime_sdk_objects DIR: the SDK's crt0.o and dime_sdk.o, into DIR
dime_sdk_objects() {
  "$CC" "${DIME_SERVICE_FLAGS[@]}" -c "$DIME_SDK/crt0.S" -o "$1/crt0.o"
  "$CC" "${DIME_SERVICE_FLAGS[@]}" -c "$DIME_SDK/dime_sdk.c" -o "$1/dime_sdk.o"
}

# dime_service SOURCE.c DIR NAME: DIR/NAME.bin (after dime_sdk_objects DIR)
dime_service() {
  local src="$1" dir="$2" name="$3"
  "$CC" "${DIME_SERVICE_FLAGS[@]}" -c "$src" -o "$dir/$name.o"
  "$LD" -m elf_x86_64 -nostdlib -static --no-dynamic-linker --build-id=none -z max-page-size=0x1000 \
    -z noexecstack --no-warn-rwx-segments -T "$DIME_SDK/service.ld" -o "$dir/$name.elf" \
    "$dir/crt0.o" "$dir/$name.o" "$dir/dime_sdk.o"
  "$OBJCOPY" -O binary "$dir/$name.elf" "$dir/$name.bin"
}

# dime_multiboot_image LINKER_SCRIPT ELF64 IMAGE OBJECT...: link kernel-mode objects to ELF64,
# then IMAGE as ELF32 with the same bytes (QEMU's -kernel takes Multiboot images only as ELF32)
dime_multiboot_image() {
  local script="$1" elf="$2" image="$3"
  shift 3
  "$LD" -m elf_x86_64 -nostdlib -static --build-id=none -z max-page-size=0x1000 -z noexecstack \
    -T "$script" -o "$elf" "$@"
  "$OBJCOPY" -O elf32-i386 "$elf" "$image"
}
