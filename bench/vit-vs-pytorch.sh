#!/usr/bin/env bash
# Forward and forward+backward images/s of irtj's ViT (irt bench, Vector API backend) and of the
# same ViT in PyTorch on the CPU, in one run, with the same thread count; one line per case with
# both figures and the ratio irtj/PyTorch.
#
# PyTorch at its best here: Debian's python3-torch links the generic libblas.so.3, so OpenBLAS
# (OpenMP build) is installed and put first on the loader path; the environment's
# OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (which halve BLAS speed on this CPU) are unset for that
# command only; torch.set_num_threads(THREADS).
#
# Usage: bench/vit-vs-pytorch.sh [THREADS=2] [REPS=5]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
threads="${1:-2}"
reps="${2:-5}"
warmup=2

need=()
/usr/bin/python3 -c "import torch" 2>/dev/null || need+=(python3-torch)
[ -d /usr/lib/x86_64-linux-gnu/openblas-openmp ] || need+=(libopenblas0-openmp)
command -v bc >/dev/null || need+=(bc)
if ((${#need[@]})); then
  echo "installing ${need[*]} ..." >&2
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi

"$root/irt" --help >/dev/null   # builds the jar if needed

torch_run() {
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
      OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" \
      /usr/bin/python3 "$root/bench/vit_pytorch.py" --threads "$threads" --warmup "$warmup" --reps "$reps" "$@"
}

irtj_run() {
  "$root/irt" --threads "$threads" bench --warmup "$warmup" --reps "$reps" "$@" 2>/dev/null
}

field() { sed -E "s/.*$1=([0-9.]+).*/\1/"; }

printf '%-26s %12s %12s %7s   %12s %12s %7s\n' case "irtj fwd" "torch fwd" ratio "irtj f+b" "torch f+b" ratio
geo=1; n=0
run_case() {
  local name="$1" img="$2" patch="$3" chans="$4" dim="$5" depth="$6" heads="$7" batch="$8"
  local j t
  j=$(irtj_run --img-size "$img" --patch "$patch" --in-chans "$chans" --dim "$dim" --depth "$depth" --heads "$heads" --batch "$batch")
  t=$(torch_run --img "$img" --patch "$patch" --chans "$chans" --dim "$dim" --depth "$depth" --heads "$heads" --batch "$batch")
  local jf jb tf tb
  jf=$(echo "$j" | field forward_img_s); jb=$(echo "$j" | field fwd_bwd_img_s)
  tf=$(echo "$t" | field forward_img_s); tb=$(echo "$t" | field fwd_bwd_img_s)
  printf '%-26s %12.2f %12.2f %7.2f   %12.2f %12.2f %7.2f\n' "$name" "$jf" "$tf" "$(echo "$jf / $tf" | bc -l)" "$jb" "$tb" "$(echo "$jb / $tb" | bc -l)"
}

echo "threads=$threads reps=$reps (medians after $warmup warm-up runs); $(/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)')"
run_case "DeiT-S/16 224 batch 8"   224 16 3 384 12 6 8
run_case "DeiT-S/16 224 batch 32"  224 16 3 384 12 6 32
run_case "DeiT-Ti/16 224 batch 32" 224 16 3 192 12 3 32
run_case "ViT 28x28 p4 d192 batch 128" 28 4 1 192 6 3 128
