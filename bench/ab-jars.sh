#!/usr/bin/env bash
# A/B of two builds of irt on the four ViT cases of issue 14: `irt bench` images/s (forward,
# forward+backward, training step with AdamW) of a baseline jar and a candidate jar, alternated
# in fresh JVMs for ROUNDS rounds, medians per case, ratio candidate/baseline; also the CPU
# seconds of each whole run (user + sys, ratio baseline/candidate), the steadier figure on a
# shared machine. The load average is printed before every run.
#
#   [CASES=REGEX] bench/ab-jars.sh BASE_JAR CAND_JAR [ROUNDS=3] [THREADS=2] [REPS=3]
#
# CASES keeps only the cases whose name matches (grep -E), e.g. CASES='b8|Ti' on a busy machine.
#
# Build a baseline from another commit without touching this checkout, e.g.
#   git archive main | tar -x -C /tmp/base && (cd /tmp/base && mvn -B -q -DskipTests package)
#   bench/ab-jars.sh /tmp/base/cli/target/irt.jar cli/target/irt.jar
set -euo pipefail
base="${1:?baseline irt.jar}" cand="${2:?candidate irt.jar}" rounds="${3:-3}" threads="${4:-2}" reps="${5:-3}"
for j in "$base" "$cand"; do [ -f "$j" ] || { echo "ab-jars.sh: no jar at $j" >&2; exit 2; }; done

run() { # jar, bench args...; appends " cpu_s=USER+SYS" (the whole process: JVM start, model init, all reps)
  local jar="$1"; shift
  /usr/bin/time -f 'cpu_s=%U+%S' -o "$tmp/time" java --add-modules jdk.incubator.vector -XX:+UseParallelGC -XX:MaxRAMPercentage=70 \
       -Djava.awt.headless=true -jar "$jar" --threads "$threads" bench --warmup 1 --reps "$reps" "$@" 2>/dev/null | tr -d '\n'
  echo " cpu_s=$(sed -E 's/cpu_s=([0-9.]+)\+([0-9.]+)/\1 + \2/' "$tmp/time" | bc -l)"
}
field() { sed -E "s/.*$1=([0-9.]+).*/\1/"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

cases=("DeiT-S/16 224 b8|--img-size 224 --patch 16 --dim 384 --depth 12 --heads 6 --batch 8"
       "DeiT-S/16 224 b32|--img-size 224 --patch 16 --dim 384 --depth 12 --heads 6 --batch 32"
       "DeiT-Ti/16 224 b32|--img-size 224 --patch 16 --dim 192 --depth 12 --heads 3 --batch 32"
       "ViT 28x28 p4 b128|--img-size 28 --patch 4 --in-chans 1 --dim 192 --depth 6 --heads 3 --batch 128")
if [ -n "${CASES:-}" ]; then
  kept=()
  for c in "${cases[@]}"; do if echo "${c%%|*}" | grep -Eq "$CASES"; then kept+=("$c"); fi; done
  [ ${#kept[@]} -gt 0 ] || { echo "ab-jars.sh: CASES='$CASES' matches none of the cases" >&2; exit 2; }
  cases=("${kept[@]}")
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "threads=$threads rounds=$rounds reps=$reps (median of reps per run, then median over rounds)"
for ((r = 1; r <= rounds; r++)); do
  for i in "${!cases[@]}"; do
    args="${cases[$i]#*|}"
    # Alternate which side goes first, so neither always gets the quieter half of a round.
    order=(base cand); (( r % 2 == 0 )) && order=(cand base)
    for side in "${order[@]}"; do
      jar=$base; [ "$side" = cand ] && jar=$cand
      echo "round $r ${cases[$i]%%|*} $side load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
      # shellcheck disable=SC2086
      run "$jar" $args >> "$tmp/$i.$side"
    done
  done
done
printf '%-20s %-10s %10s %10s %7s\n' case metric base cand ratio
for i in "${!cases[@]}"; do
  for metric in forward_img_s fwd_bwd_img_s train_step_img_s; do
    b=$(field "$metric" < "$tmp/$i.base" | median); c=$(field "$metric" < "$tmp/$i.cand" | median)
    printf '%-20s %-10s %10.2f %10.2f %7.3f\n' "${cases[$i]%%|*}" "${metric%_img_s}" "$b" "$c" "$(echo "$c / $b" | bc -l)"
  done
  # CPU seconds of the whole run: steadier than wall time when other processes share the cores;
  # the ratio printed is base/cand, so above 1 means the candidate needed less CPU.
  b=$(field cpu_s < "$tmp/$i.base" | median); c=$(field cpu_s < "$tmp/$i.cand" | median)
  printf '%-20s %-10s %10.1f %10.1f %7.3f\n' "${cases[$i]%%|*}" "cpu_s" "$b" "$c" "$(echo "$b / $c" | bc -l)"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
