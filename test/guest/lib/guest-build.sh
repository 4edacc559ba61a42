# How guest test kernels are built, sourced by test/guest/build.sh and test/net/guest/build.sh
# so that both kinds of test kernel are built alike: toolchain, flags (the include paths are
# each script's own), the lock between concurrent builds, the staleness check.
CC=${CC:-gcc}
LD=${LD:-ld}
OBJCOPY=${OBJCOPY:-objcopy}

# guest_build_lock OUT: create OUT and hold its lock (fd 9) until the script exits
guest_build_lock() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  flock 9
}

GUEST_BASE_FLAGS=(-std=gnu11 -m64 -O2 -ffreestanding -fno-stack-protector -nostdlib -fno-pic -fno-pie
  -mno-red-zone -mcmodel=small -fno-asynchronous-unwind-tables -fno-unwind-tables
  -fno-tree-loop-distribute-patterns -fno-common -fno-ident -Wall -Wextra -Werror)
GUEST_GPR_FLAGS=(-mgeneral-regs-only)
GUEST_SSE_FLAGS=(-msse2 -mfpmath=sse -fno-math-errno -mno-avx)

# guest_images_stale OUT SOURCES...: succeeds when some kernel image in OUT (one per
# kernels/*.c) is missing or older than any of the SOURCES
guest_images_stale() {
  local out="$1" k img; shift
  for k in kernels/*.c; do
    img="$out/$(basename "$k" .c).elf"
    if [[ ! -f "$img" ]] || [[ -n "$(find "$@" -newer "$img" -type f -print -quit)" ]]; then return 0; fi
  done
  return 1
}
