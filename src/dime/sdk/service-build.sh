# The one recipe for a DIME service image, sourced by src/dime/build.sh (the built-in services)
# and bench/dime/build.sh (services loaded over the network): compiler flags, the SDK objects,
# the link at USER_BASE and the flat binary with the DSV1 header first.
# Needs $root (the repository), $CC, $LD and $OBJCOPY set by the sourcing script.

DIME_SDK="$root/src/dime/sdk"
# flags shared by the kernel and its services
DIME_COMMON_FLAGS=(-std=gnu11 -O2 -g0 -ffreestanding -fno-stack-protector -fno-asynchronous-unwind-tables
  -fno-unwind-tables -fcf-protection=none -fno-tree-loop-distribute-patterns -mno-red-zone
  -mgeneral-regs-only -fno-common -Wall -Wextra -Werror -Wno-unused-parameter
  "-ffile-prefix-map=$root=." -I "$root/src/dime/include")
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
