#!/usr/bin/env bash
# Builds, here, everything scripts/device-check.sh needs on the lent GPU machine, which has the
# NVIDIA driver (CUDA 13), Python 3.12 with PyTorch and CuPy, and NO Java, no Maven and no
# internet (an H200: /work/.library/device/KINDS.md). What travels is one git-ignored folder,
# .device/, carried next to the working tree (tree + .device/ must stay under 64 MiB):
#   .device/device-check.tar.xz   jre/     a jlink'd JRE 17 (only the modules the tests and the
#                                          CLI use; --compress=2 --strip-debug --no-header-files
#                                          --no-man-pages), from the JDK 17 here
#                                 lib/     the test class path of kernels, vit and train, the
#                                          extra jars irt bench needs, the bench module's jar,
#                                          the JUnit console launcher; native libraries trimmed
#                                          to the linux-x86_64 ones that are loaded (JCuda's
#                                          driver and JCublas2, JavaCPP's cudart/cublas bridges)
#                                 tests/   the compiled tests of kernels, vit and train
#                                 classpath.txt (relative to the unpacked folder)
#   .device/SOURCE_HASH           scripts/source-hash.sh of the tree it was built from
#   .device/SIZES                 the sizes printed at the end
# Needs: JDK 17 (java, jlink, jdeps), Maven (mvn or ./mvnw), xz, zip, unzip; Maven Central may be reached for
# what the local repository lacks. Uses `mvn package`, never `install` (~/.m2 is shared).
#
# Then, with a GPU lent to the session, ONE call of the device tool runs everything:
#   run(command="bash scripts/device-check.sh", carry=[".device"], timeout_s=540)
# (480 s global deadline inside the script, 60 s margin; with the machine's start that is up to
# 11 of the session's 15 device minutes, and a rerun at once fits as
# run(command="bash scripts/device-check.sh --deadline 150", carry=[".device"], timeout_s=200)).
# The results come back as at most 8 files of $OUT (device-check.sh leaves 4).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
stage="$root/dist/device-check"
pack="$root/.device"
mvn_cmd=(mvn)
command -v mvn >/dev/null || mvn_cmd=("$root/mvnw")
mvn_q=("${mvn_cmd[@]}" -B -q)
junit_console=org.junit.platform:junit-platform-console-standalone:1.14.1
javacpp_version=1.5.13
cuda_presets=org.bytedeco:cuda:13.1-9.19-$javacpp_version

for tool in java jlink jdeps xz zip unzip; do
  command -v "$tool" >/dev/null || { echo "prepare-device-check: '$tool' not found (needs a JDK 17, xz, zip and unzip)" >&2; exit 1; }
done
java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
[ "$java_major" = 17 ] || { echo "prepare-device-check: needs JDK 17 (the build's release), found java $java_major" >&2; exit 1; }

rm -rf "$stage"
mkdir -p "$stage/lib" "$stage/tests" "$stage/m2" "$pack"

# 1. Jars. Packaging and copying happen in one Maven invocation each, so the irtj modules come
# from this reactor (never from stale SNAPSHOTs in ~/.m2).
echo "[prepare] mvn package + test class path of kernels, vit, train"
"${mvn_q[@]}" package dependency:copy-dependencies -DskipTests -DincludeScope=test -DoutputDirectory="$stage/m2/tests" \
  -pl kernels,vit,train -am
echo "[prepare] mvn package + runtime class path of cli, bench"
"${mvn_q[@]}" package dependency:copy-dependencies -DskipTests -DincludeScope=runtime -DoutputDirectory="$stage/m2/cli" \
  -pl cli,bench -am
echo "[prepare] JUnit console launcher and JavaCPP's linux-x86_64 natives (fetched when missing)"
for artifact in "$junit_console" "$cuda_presets:jar:linux-x86_64" "org.bytedeco:javacpp:$javacpp_version:jar:linux-x86_64"; do
  "${mvn_q[@]}" -N dependency:copy -Dartifact="$artifact" -DoutputDirectory="$stage/m2/extra"
done

# What irt bench (the CUDA training step) never loads: the index, Solr, the web server, charts
# and their own dependencies. Dropping them keeps the carried folder under the size limit;
# device-check.sh's dry run starts irt bench --help on this class path, so a class that is
# needed after all fails here, not on the GPU machine.
not_for_bench='^(solr-|zookeeper|netty-|jetty-|javalin|jakarta\.|kotlin-|pdfbox|fontbox|lucene-|httpclient|httpcore|httpmime|commons-math3|commons-io|commons-codec|commons-lang3|jline|xchart|VectorGraphics2D|graphics2d|jackson-dataformat|jackson-module|woodstox|stax2|metrics-|opentelemetry|jose4j|http2-|caffeine|slf4j-)'
cp "$stage"/m2/tests/*.jar "$stage/lib/"
for j in "$stage"/m2/cli/*.jar; do
  b=$(basename "$j")
  [ -e "$stage/lib/$b" ] && continue
  if [[ "$b" =~ $not_for_bench ]]; then continue; fi
  cp "$j" "$stage/lib/"
done
cp kernels/target/irtj-kernels-0.1.0-SNAPSHOT.jar vit/target/irtj-vit-0.1.0-SNAPSHOT.jar train/target/irtj-train-0.1.0-SNAPSHOT.jar \
   cli/target/irtj-cli-0.1.0-SNAPSHOT.jar bench/target/irtj-bench-0.1.0-SNAPSHOT.jar "$stage/lib/"
cp "$stage"/m2/extra/junit-platform-console-standalone-*.jar "$stage/lib/"

# 2. Natives trimmed to what loads on linux-x86_64: JCuda's driver bridge (libcuda.so.1) and
# JCublas2 (libcublas.so.12, CUDA 12 machines); JavaCPP's own bridge and its cudart and cublas
# bridges (libcudart.so.13, libcublas.so.13: CUDA 13 machines, from PyTorch's nvidia wheels).
# NVRTC, the PTX compiler, the runtime API bridge and cuBLAS v1 are never loaded.
trim_jar() {  # trim_jar JAR ENTRY... : JAR keeps only ENTRY (and its manifest)
  local jar=$1; shift
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && unzip -q "$jar" "$@" && zip -q -r -9 "$jar.trimmed" .)
  mv "$jar.trimmed" "$jar"
  rm -rf "$tmp"
}
jcuda_v=$(ls "$stage"/lib/jcuda-natives-*-linux-x86_64.jar | sed -E 's/.*jcuda-natives-(.*)-linux-x86_64\.jar/\1/')
rm -f "$stage"/lib/jcuda-natives-*-windows-* "$stage"/lib/jcuda-natives-*-apple-* "$stage"/lib/jcublas-natives-*-windows-* "$stage"/lib/jcublas-natives-*-apple-*
trim_jar "$stage/lib/jcuda-natives-$jcuda_v-linux-x86_64.jar" "lib/libJCudaDriver-$jcuda_v-linux-x86_64.so"
trim_jar "$stage/lib/jcublas-natives-$jcuda_v-linux-x86_64.jar" "lib/libJCublas2-$jcuda_v-linux-x86_64.so"
cp "$stage"/m2/extra/cuda-*-linux-x86_64.jar "$stage"/m2/extra/javacpp-*-linux-x86_64.jar "$stage/lib/"
trim_jar "$(ls "$stage"/lib/cuda-*-linux-x86_64.jar)" org/bytedeco/cuda/linux-x86_64/libjnicudart.so org/bytedeco/cuda/linux-x86_64/libjnicublas.so
trim_jar "$(ls "$stage"/lib/javacpp-*-linux-x86_64.jar)" org/bytedeco/javacpp/linux-x86_64/libjnijavacpp.so

# 3. Compiled tests (with their resources: golden files, fixtures).
for m in kernels vit train; do cp -r "$m/target/test-classes" "$stage/tests/$m"; done
# One class path for the tests and the benchmarks, relative to the unpacked folder.
(cd "$stage/lib" && ls *.jar | grep -v '^junit-platform-console-standalone' | sed 's|^|lib/|' | tr '\n' ':' | sed 's/:$//') >"$stage/classpath.txt"

# 4. The JRE: the modules jdeps finds in these jars, plus those loaded by name at run time
# (jdk.incubator.vector by --add-modules, jdk.unsupported for Unsafe users, jdk.zipfs for zip
# file systems, java.management for JUnit's and the JVM's MX beans).
echo "[prepare] jdeps + jlink"
mods=$(jdeps --multi-release 17 --ignore-missing-deps --print-module-deps --class-path "$stage/lib/*" "$stage"/lib/irtj-*.jar "$stage/lib"/junit-platform-console-standalone-*.jar 2>/dev/null || true)
mods="java.base,java.logging,java.management,java.xml,jdk.incubator.vector,jdk.unsupported,jdk.zipfs${mods:+,$mods}"
mods=$(echo "$mods" | tr ',' '\n' | sort -u | paste -sd, -)
echo "[prepare] JRE modules: $mods"
jlink --add-modules "$mods" --compress=2 --strip-debug --no-header-files --no-man-pages --output "$stage/jre"
echo "$mods" >"$stage/jre/MODULES"
# jlink's --strip-debug strips class files; the JVM's own libraries keep a symbol table that
# nothing on the GPU machine reads (about 1 MiB once compressed).
if command -v strip >/dev/null; then find "$stage/jre" -name '*.so' -exec strip --strip-unneeded {} +; fi
# The JRE must start the CLI and the launcher here before it travels.
"$stage/jre/bin/java" --add-modules jdk.incubator.vector -cp "$(sed "s|lib/|$stage/lib/|g" "$stage/classpath.txt")" dev.irtj.cli.Irt bench --help >/dev/null
"$stage/jre/bin/java" -jar "$stage"/lib/junit-platform-console-standalone-*.jar --version >/dev/null 2>&1 || \
  "$stage/jre/bin/java" -jar "$stage"/lib/junit-platform-console-standalone-*.jar --help >/dev/null

# 5. Pack. SOURCE_HASH lets device-check.sh refuse a pack built from other sources.
"$root/scripts/source-hash.sh" >"$stage/SOURCE_HASH"
rm -rf "$pack"
mkdir -p "$pack"
echo "[prepare] packing (xz)"
tar -C "$stage" -cf - jre lib tests classpath.txt SOURCE_HASH | xz -T0 -6 >"$pack/device-check.tar.xz"
cp "$stage/SOURCE_HASH" "$pack/SOURCE_HASH"

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
bytes() { du -sb "$1" | cut -f1; }
tree_bytes=$(git -C "$root" ls-files -z --cached --others --exclude-standard | (cd "$root" && xargs -0 stat -c %s 2>/dev/null) | awk '{s += $1} END {print s + 0}')
pack_bytes=$(bytes "$pack")
{
  echo "jre (unpacked)          $(mib "$(bytes "$stage/jre")")"
  echo "lib (unpacked)          $(mib "$(bytes "$stage/lib")")"
  echo "tests (unpacked)        $(mib "$(bytes "$stage/tests")")"
  echo "device-check.tar.xz     $(mib "$(bytes "$pack/device-check.tar.xz")")"
  echo "working tree (travels)  $(mib "$tree_bytes")"
  echo "carried .device/        $(mib "$pack_bytes")"
  echo "total                   $(mib $((tree_bytes + pack_bytes))) (limit 64 MiB)"
} | tee "$pack/SIZES"
if [ $((tree_bytes + pack_bytes)) -ge $((64 * 1048576)) ]; then
  echo "prepare-device-check: tree + .device/ is over 64 MiB: it would not travel" >&2
  exit 1
fi
