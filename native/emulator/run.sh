#!/usr/bin/env bash
# Builds the host emulation (cuda_shim.h, include/mma.h for the TF32 GEMM's WMMA calls) of every
# kernel family and runs check.cpp against plain-loop references. Needs g++ with C++20; no GPU,
# no nvcc.
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
objs=()
for cu in ../src/cuda/*.cu; do
  name=$(basename "$cu" .cu)
  g++ -std=c++20 -O1 -w -x c++ -include cuda_shim.h -Iinclude -D__CUDA_ARCH__=800 -c "$cu" -o "$out/$name.o" &
  objs+=("$out/$name.o")
done
wait
g++ -std=c++20 -O1 -include cuda_shim.h check.cpp "${objs[@]}" -o "$out/check" -pthread
start=$(date +%s.%N)
"$out/check"
echo "emulation ran in $(echo "$(date +%s.%N) - $start" | awk '{print $1 - $3}') s"
