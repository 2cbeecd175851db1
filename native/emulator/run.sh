#!/usr/bin/env bash
# Builds the host emulation (cuda_shim.h; include/mma.h for the TF32 GEMM's WMMA calls and
# include/cuda_pipeline.h for the GEMMs' cp.async copies) of every kernel family and runs
# check.cpp against plain-loop references; then rebuilds the two GEMM families on their plain
# (synchronous) loads, the path older GPUs take, and runs the GEMM checks again. Needs g++ with
# C++20; no GPU, no nvcc.
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
plain=()
for name in gemm_fp32 gemm_tf32; do
  g++ -std=c++20 -O1 -w -x c++ -include cuda_shim.h -Iinclude -D__CUDA_ARCH__=800 -DIRTJ_PLAIN_LOADS -c "../src/cuda/$name.cu" -o "$out/$name.plain.o" &
  plain+=("$out/$name.plain.o")
done
wait
g++ -std=c++20 -O1 -include cuda_shim.h -Iinclude check.cpp "${objs[@]}" -o "$out/check" -pthread
others=()
for o in "${objs[@]}"; do case "$o" in */gemm_fp32.o|*/gemm_tf32.o) ;; *) others+=("$o") ;; esac; done
g++ -std=c++20 -O1 -include cuda_shim.h -Iinclude check.cpp "${others[@]}" "${plain[@]}" -o "$out/check-plain" -pthread
start=$(date +%s.%N)
echo "== every family, GEMMs on the cp.async pipeline (sm_80+)"
"$out/check"
echo "== GEMMs on the plain loads"
"$out/check-plain" gemm
echo "emulation ran in $(echo "$(date +%s.%N) - $start" | awk '{print $1 - $3}') s"
