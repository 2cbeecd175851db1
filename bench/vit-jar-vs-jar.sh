#!/usr/bin/env bash
# irt bench images/s (forward, forward+backward, training step) of two builds of irt.jar on the
# same ViT shapes, interleaved in fresh JVMs round by round, the load average printed before and
# after; medians over ROUNDS and the ratio NEW/OLD. Used to measure one change against main:
#   git -C REPO archive main | tar -x -C /tmp/base && (cd /tmp/base && mvn -B -q -DskipTests package)
#   bench/vit-jar-vs-jar.sh /tmp/base/cli/target/irt.jar cli/target/irt.jar
#
# Usage: bench/vit-jar-vs-jar.sh OLD_JAR NEW_JAR [THREADS=2] [ROUNDS=2] [REPS=3]
set -euo pipefail
old="${1:?usage: vit-jar-vs-jar.sh OLD_JAR NEW_JAR [THREADS] [ROUNDS] [REPS]}"
new="${2:?usage: vit-jar-vs-jar.sh OLD_JAR NEW_JAR [THREADS] [ROUNDS] [REPS]}"
threads="${3:-2}"
rounds="${4:-2}"
reps="${5:-3}"
for j in "$old" "$new"; do [ -f "$j" ] || { echo "vit-jar-vs-jar.sh: no jar at $j" >&2; exit 2; }; done

run() {
  local jar="$1"; shift
  java --add-modules jdk.incubator.vector -XX:+UseParallelGC -XX:MaxRAMPercentage=70 -Djava.awt.headless=true \
       -jar "$jar" --threads "$threads" bench --warmup 1 --reps "$reps" "$@" 2>/dev/null
}
field() { sed -E "s/.*$1=([0-9.]+).*/\1/"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "threads=$threads rounds=$rounds reps=$reps; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-24s %-10s %9s %9s %7s\n' case measure old new ratio
for spec in "DeiT-S/16-224-b8:224 16 384 12 6 8" "DeiT-S/16-224-b32:224 16 384 12 6 32"; do
  name="${spec%%:*}"; set -- ${spec#*:}
  declare -A vals=()
  for ((r = 0; r < rounds; r++)); do
    for side in old new; do
      jar="$old"; [ "$side" = new ] && jar="$new"
      line=$(run "$jar" --img-size "$1" --patch "$2" --dim "$3" --depth "$4" --heads "$5" --batch "$6")
      for f in forward_img_s fwd_bwd_img_s train_step_img_s; do vals[$side.$f]+="$(echo "$line" | field $f) "; done
    done
  done
  for f in forward_img_s fwd_bwd_img_s train_step_img_s; do
    o=$(echo ${vals[old.$f]} | tr ' ' '\n' | median); n=$(echo ${vals[new.$f]} | tr ' ' '\n' | median)
    printf '%-24s %-10s %9.2f %9.2f %7.3f\n' "$name" "${f%_img_s}" "$o" "$n" "$(awk -v a="$n" -v b="$o" 'BEGIN {print a / b}')"
  done
  unset vals
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
