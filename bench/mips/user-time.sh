#!/usr/bin/env bash
# MIPS of parallax-emu on the benchmark guest from user CPU time (robust on a shared, noisy
# machine): median over REPS of (user time with N iterations - user time with 0), divided
# into the retired-instruction difference; also the best run. Usage: bench/mips/user-time.sh [N] [REPS]
# Environment (PARALLAX_JIT_TIER, PARALLAX_JIT_THRESHOLD, ...) passes through to the emulator.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-300}
REPS=${2:-3}
ELF=${ELF:-bench/mips/build/mips-guest.elf}
run() { # prints "user_seconds instructions checksum"
  local out
  out=$( { /usr/bin/time -f "TIME %U" node dist/src/cli/parallax-emu.js --kernel "$ELF" --append "$1" --memory 256M --cores 1 --stats; } 2>&1 || true)
  echo "$(grep -o 'TIME [0-9.]*' <<<"$out" | cut -d' ' -f2) $(grep -o 'core 0: [0-9][0-9]* instructions' <<<"$out" | cut -d' ' -f3) $(grep -o 'checksum=[0-9a-f]*' <<<"$out" | cut -d= -f2)"
}
results=()
for _ in $(seq "$REPS"); do
  read -r u0 i0 _ <<<"$(run 0)"
  read -r u1 i1 sum <<<"$(run "$N")"
  results+=("$(awk -v a="$u0" -v b="$u1" -v x="$i0" -v y="$i1" 'BEGIN { printf "%.1f", (y - x) / ((b - a) * 1e6) }')")
  echo "run: ${u1}s - ${u0}s user, $((i1 - i0)) instructions, checksum $sum, ${results[-1]} MIPS" >&2
done
# median, and best (the least disturbed run: noise on a shared machine only ever adds time)
printf '%s\n' "${results[@]}" | sort -n | awk '{ a[NR] = $1 } END { print "median MIPS:", a[int((NR + 1) / 2)], " best:", a[NR] }'
