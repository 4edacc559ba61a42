#!/usr/bin/env bash
# Print a PATH under which the oracle tools (QEMU, gdb, tshark, Chromium) are absent, as on a
# newcomer's machine: a temp dir of symlinks to every other command on the current PATH.
# Usage: PATH="$(.ci/hide-tools.sh)" npm test
set -euo pipefail
hidden='^(qemu-.*|gdb|gdb-multiarch|tshark|wireshark|dumpcap|chromium|chromium-browser|google-chrome.*|chrome)$'
dir="$(mktemp -d "${TMPDIR:-/tmp}/parallax-fresh-path.XXXXXX")"
IFS=: read -ra parts <<<"$PATH"
for d in "${parts[@]}"; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    name="${f##*/}"
    [ -x "$f" ] && [ ! -d "$f" ] || continue
    [[ "$name" =~ $hidden ]] && continue
    [ -e "$dir/$name" ] || ln -s "$f" "$dir/$name"
  done
done
echo "$dir"
