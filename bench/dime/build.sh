#!/usr/bin/env bash
# Builds the benchmark's DIME service images with the DIME SDK's recipe (src/dime/sdk/service-build.sh,
# as src/dime/build.sh does for the built-in ones) -> bench/dime/build/<name>.bin (loaded over the network).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../src/dime/sdk/service-build.sh"   # $root, the toolchain and the flags
out="$here/build"
mkdir -p "$out"
dime_sdk_objects "$out"
for s in pingpong; do dime_service "$here/$s.c" "$out" "$s"; done
