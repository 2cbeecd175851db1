#!/usr/bin/env bash
# Builds every kernel family (src/cuda/*.cu) into a fatbin holding SASS for sm_80 and sm_90 and
# PTX for compute_80 (JIT-compiled by the driver on newer GPUs), written to
# src/main/resources/dev/irtj/native/, and records in kernels.properties the SHA-256 of each
# family's sources (its .cu plus every shared .cuh) and the nvcc version. The outputs are
# committed, so `mvn package` needs no nvcc; NativeKernelsTest fails when a source no longer
# matches its recorded hash (run this script after editing a kernel).
set -euo pipefail
cd "$(dirname "$0")"
NVCC=${NVCC:-nvcc}
command -v "$NVCC" >/dev/null || { echo "build.sh: nvcc not found (set NVCC=/path/to/nvcc)" >&2; exit 1; }
OUT=src/main/resources/dev/irtj/native
mkdir -p "$OUT"
FLAGS=(-std=c++17 -O3 -Werror all-warnings
       -gencode arch=compute_80,code=sm_80
       -gencode arch=compute_90,code=sm_90
       -gencode arch=compute_80,code=compute_80)
headers=$(ls src/cuda/*.cuh | sort)
manifest=$(mktemp)
echo "# Written by native/build.sh; checked by NativeKernelsTest. Do not edit." > "$manifest"
echo "nvcc=$("$NVCC" --version | tail -1)" >> "$manifest"
pids=()
for cu in src/cuda/*.cu; do
    name=$(basename "$cu" .cu)
    "$NVCC" "${FLAGS[@]}" -fatbin -o "$OUT/$name.fatbin" "$cu" &
    pids+=($!)
    # shellcheck disable=SC2086
    echo "$name.sha256=$(cat "$cu" $headers | sha256sum | cut -d' ' -f1)" >> "$manifest"
done
for p in "${pids[@]}"; do wait "$p"; done
sort "$manifest" -o "$manifest.sorted"
mv "$manifest.sorted" "$OUT/kernels.properties"
rm -f "$manifest"
ls -l "$OUT"
