#!/usr/bin/env bash
# Builds the benchmark's DIME service images with the DIME SDK's recipe (src/dime/sdk/service-build.sh,
# as src/dime/build.sh does for the built-in ones) -> bench/dime/build/<name>.bin (loaded over the network).
set -euo pipefail
export LC_ALL=C SOURCE_DATE_EPOCH=0
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/build"
source "$root/src/dime/sdk/service-build.sh"
mkdir -p "$out"
dime_sdk_objects "$out"
for s in pingpong; do dime_service "$here/$s.c" "$out" "$s"; done
