#!/usr/bin/env bash
# Builds everything scripts/device-check.sh needs into dist/device-check (git-ignored), so the
# GPU machine, which has Java, nvcc, PyTorch and CuPy but no Maven repository and no internet,
# runs the GPU tests and benchmarks with plain `java`:
#   lib/      every jar on the test class path of kernels, vit, train and cli (JCuda and its
#             natives included), the modules' own jars (cli: irt bench; bench: CudaGemmBench),
#             and the JUnit console launcher
#   tests/    the compiled tests of kernels, vit and train
# Run it here (mvn -o works from the local repository), then carry dist/device-check along.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dist="$root/dist/device-check"
cd "$root"
mvn -B -q -o install -DskipTests
rm -rf "$dist"
mkdir -p "$dist/lib" "$dist/tests"
mvn -B -q -o -pl kernels,vit,train,cli dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$dist/lib"
mvn -B -q -o dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.1 -DoutputDirectory="$dist/lib" -N
for m in kernels vit train; do
  cp "$m/target/irtj-$m-0.1.0-SNAPSHOT.jar" "$dist/lib/"
  cp -r "$m/target/test-classes" "$dist/tests/$m"
done
# What the jars were built from, so device-check.sh can refuse a stale copy.
"$root/scripts/source-hash.sh" > "$dist/SOURCE_HASH"
cp cli/target/irtj-cli-0.1.0-SNAPSHOT.jar bench/target/irtj-bench-0.1.0-SNAPSHOT.jar "$dist/lib/"
du -sh "$dist"
