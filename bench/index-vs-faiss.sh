#!/usr/bin/env bash
# irtj's embedded index (LuceneIndex: Lucene 9.12 HNSW on JDK 17) against FAISS (IndexFlatIP,
# IndexHNSWFlat) and hnswlib, and the same harness on Lucene 10 / Temurin 25, in one run:
# build time, recall@10 against exact search (irtj's Knn.search), queries/s at 1 and 2 threads
# over a sweep of efSearch; one table per data set, then the ratios against the targets of
# issue 10 (recall@10 >= 0.98 where queries/s >= 0.5x FAISS HNSW at the same recall; build time
# <= 2x FAISS HNSW; exact mode >= 0.8x IndexFlatIP).
#
# Data sets: N random L2-normalized DIMS-d vectors (Gaussian rows normalized, QUERIES more as
# queries), and the real descriptors of `irt demo --quick` (its IRT_R model over the 10,000
# Fashion-MNIST test images: the last QUERIES are the queries; DEMO_RUN=RUN_FOLDER uses an
# existing run instead of training one, DEMO=0 skips it).
#
# Implementations, each in a fresh process, interleaved RUNS times (medians are reported):
#   irtj        LuceneIndex through VectorIndex (dev.irtj.bench.index.IndexBench --impl irtj), JDK 17
#   irtj-lucenesearch, irtj-lucenebuild   the same with Lucene's graph search / Lucene's graph builder  [LUCENE_SEARCH=0 / LUCENE_BUILD=0 skip]
#   irtj-noarchive   irtj without the class-data-sharing archive the JDK 17 rows map, as ./irt does  [NO_ARCHIVE_ROW=1 adds it]
#   lucene9     the same harness in plain Lucene 9.12 calls (PlainLuceneIndex), JDK 17  [PLAIN9=0 skips]
#   lucene10    PlainLuceneIndex compiled against Lucene LUCENE10 on JDK25 (Panama vector code on)  [PLAIN10=0 skips]
#   faiss-hnsw, faiss-flat, hnswlib   bench/index/ann_python.py on Debian's python3-faiss / python3-hnswlib
# Same M (HNSW neighbours; 2M on layer 0 in all three), efConstruction = Lucene's beam width, and
# efSearch swept; every query is answered on its own (see ann_python.py); builds on one thread.
# The sweeps should take every HNSW row past recall@10 0.98 (the target): at 20k random 384-d
# vectors and M 16 that needs efSearch 1280-2560, hence EF_RANDOM's default; report.py prints
# each row's queries/s at the smallest efSearch reaching 0.98 and PASS/FAIL lines per target.
#
# Usage: bench/index-vs-faiss.sh [N=20000]
# Knobs (environment): DIMS=384 QUERIES=1000 RANDOM_QUERIES=$QUERIES M=16 BEAM=100 THREADS=1,2 RUNS=1
#   MIN_SECONDS=2 EF_RANDOM=10,160,640,1280,1920,2560 EF_DEMO=10,20,40,80,160 EXACT_QUERIES=200
#   DEMO=1 DEMO_RUN= LUCENE_SEARCH=1 LUCENE_BUILD=1 RANDOM_SET=1 WARM_BUILDS=2 PLAIN9=1 PLAIN10=1 LUCENE10=10.3.2 JDK25=/usr/lib/jvm/temurin-25-jdk-amd64
#   CLASS_ARCHIVE=1 (the JDK 17 rows map a CDS archive, as ./irt does) NO_ARCHIVE_ROW=0 (1: also irtj without it)
#   WORK=(temporary) HEAP=8g
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-20000}"
DIMS="${DIMS:-384}"
QUERIES="${QUERIES:-1000}"
RANDOM_QUERIES="${RANDOM_QUERIES:-$QUERIES}"   # large efSearch on 384-d is slow: fewer queries there keep a run short
M="${M:-16}"
BEAM="${BEAM:-100}"
THREADS="${THREADS:-1,2}"
RUNS="${RUNS:-1}"
MIN_SECONDS="${MIN_SECONDS:-2}"
EF_RANDOM="${EF_RANDOM:-10,160,640,1280,1920,2560}"
EF_DEMO="${EF_DEMO:-10,20,40,80,160}"
EXACT_QUERIES="${EXACT_QUERIES:-200}"
DEMO="${DEMO:-1}"
LUCENE_SEARCH="${LUCENE_SEARCH:-1}"  # 1: also irtj with Lucene's graph search instead of irtj's walk (-Dirtj.index.walk=false), row irtj-lucenesearch
LUCENE_BUILD="${LUCENE_BUILD:-1}"  # 1: also irtj with Lucene's HnswGraphBuilder instead of irtj's HnswBuilder (-Dirtj.index.builder=lucene), row irtj-lucenebuild
RANDOM_SET="${RANDOM_SET:-1}"   # 0 skips the random set (the demo set alone: minutes instead of half an hour)
WARM_BUILDS="${WARM_BUILDS:-2}" # the JVM rows build the index again this many times in the same process; the last is reported as the warm-JVM build
DEMO_RUN="${DEMO_RUN:-}"
PLAIN9="${PLAIN9:-1}"
PLAIN10="${PLAIN10:-1}"
CLASS_ARCHIVE="${CLASS_ARCHIVE:-1}"  # 1: the JDK 17 rows map a class-data-sharing archive, as ./irt does
NO_ARCHIVE_ROW="${NO_ARCHIVE_ROW:-0}" # 1: also irtj without it, row irtj-noarchive
LUCENE10="${LUCENE10:-10.3.2}"
JDK25="${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
HEAP="${HEAP:-8g}"
PYTHON=/usr/bin/python3   # Debian's python, which has python3-faiss; a pyenv one on PATH may not

need=()
"$PYTHON" -c "import numpy" 2>/dev/null || need+=(python3-numpy)
"$PYTHON" -c "import faiss" 2>/dev/null || need+=(python3-faiss)
"$PYTHON" -c "import hnswlib" 2>/dev/null || need+=(python3-hnswlib)
if ((${#need[@]})); then
    echo "installing ${need[*]} with apt-get (FAISS and hnswlib are the baselines) ..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi
[[ -x "$JDK25/bin/javac" ]] || { echo "no JDK 25 at $JDK25 (set JDK25=...): the Lucene 10 row needs JDK 21 or later" >&2; exit 1; }

WORK="${WORK:-$(mktemp -d)}"
mkdir -p "$WORK"
RESULTS="$WORK/results.txt"
: > "$RESULTS"
echo "work folder: $WORK" >&2

# The JDK 17 side: the bench module and what it depends on (package, never install: ~/.m2 is shared).
echo "building the bench module (mvn -B -q -pl bench -am -DskipTests package) ..." >&2
(cd "$root" && mvn -B -q -pl bench -am -DskipTests package) >&2
JAR="$root/bench/target/benchmarks.jar"
# -Dirtj.threads=1: irtj's backend computes each exact search on the calling thread, so the
# harness's T threads are the only parallelism (as for FAISS's one-query calls).
J17=(java --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx"$HEAP" -Dirtj.threads=1 -cp "$JAR")
# The JDK 17 rows run as the irt launcher runs irt (../irt): with a dynamic class-data-sharing
# archive of the classes dev.irtj.cli.ClassArchive loads (irt's command line; an index built,
# searched, updated and merged), made once for this jar with the rows' own JVM flags, checked by
# a JVM that must map it, and mapped by every row's process. CLASS_ARCHIVE=0 runs them without
# it; NO_ARCHIVE_ROW=1 adds the row irtj-noarchive (irtj without it) to every run.
J17_PLAIN=("${J17[@]}")
if [[ "$CLASS_ARCHIVE" == 1 || "$NO_ARCHIVE_ROW" == 1 ]]; then
    ARCHIVE="$WORK/benchmarks.jsa"
    quiet=(-Xlog:cds=off -Xlog:cds+dynamic=off)
    echo "archiving the classes of dev.irtj.cli.ClassArchive's run (-XX:ArchiveClassesAtExit) ..." >&2
    "${J17[@]}" "${quiet[@]}" -XX:ArchiveClassesAtExit="$ARCHIVE" dev.irtj.cli.ClassArchive >/dev/null 2>&1 \
        && "${J17[@]}" "${quiet[@]}" -Xshare:on -XX:SharedArchiveFile="$ARCHIVE" -XX:ErrorFile=/dev/null -version >/dev/null 2>&1 \
        || { echo "the class archive could not be made or mapped (JDK 17's CDS)" >&2; exit 1; }
    [[ "$CLASS_ARCHIVE" == 1 ]] && J17+=(-XX:SharedArchiveFile="$ARCHIVE" "${quiet[@]}")
fi

# The JDK 25 side: Lucene 10 from Maven Central, and the harness compiled against it. Only
# IndexBench, PlainLuceneIndex and the three VectorIndex contract files: LuceneIndex itself is
# written against Lucene 9.12 (its Lucene912Codec and the 9.x FloatVectorValues iterator do not
# exist in 10.x), and the project's build stays on JDK 17 and Lucene 9.12.
L10JAR="$HOME/.m2/repository/org/apache/lucene/lucene-core/$LUCENE10/lucene-core-$LUCENE10.jar"
if [[ ! -f "$L10JAR" ]]; then
    echo "fetching lucene-core $LUCENE10 (mvn dependency:get) ..." >&2
    mvn -B -q dependency:get -Dartifact="org.apache.lucene:lucene-core:$LUCENE10" >&2
fi
L10CLASSES="$WORK/lucene10-classes"
rm -rf "$L10CLASSES"
"$JDK25/bin/javac" -nowarn -cp "$L10JAR" -d "$L10CLASSES" \
    "$root"/index/src/main/java/dev/irtj/index/{VectorIndex,IndexedImage,IndexInfo}.java \
    "$root"/bench/src/main/java/dev/irtj/bench/index/{IndexBench,PlainLuceneIndex}.java
J25=("$JDK25/bin/java" --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx"$HEAP" -cp "$L10CLASSES:$L10JAR")

# Data sets, with the exact top-10 from Knn.search.
datasets=()
if [[ "$RANDOM_SET" == 1 ]]; then
    rnd="$WORK/random-$N"
    echo "writing $N random ${DIMS}-d vectors and their exact top-10 ..." >&2
    "${J17[@]}" dev.irtj.bench.index.IndexBenchData random --n "$N" --dims "$DIMS" --queries "$RANDOM_QUERIES" --k 10 --seed 1 --out "$rnd" 2>&1 \
        | grep -v '^WARNING' >&2
    datasets+=("$rnd|$EF_RANDOM")
fi
if [[ "$DEMO" == 1 ]]; then
    if [[ -z "$DEMO_RUN" ]]; then
        echo "training the demo's models (irt demo --quick) for real descriptors ..." >&2
        java --add-modules jdk.incubator.vector -XX:+UseParallelGC -Djava.awt.headless=true -Dirtj.home="$root" \
            -jar "$root/cli/target/irt.jar" demo --quick --out "$WORK/demo" > "$WORK/demo.log" 2>&1 \
            || { cat "$WORK/demo.log" >&2; exit 1; }
        DEMO_RUN="$WORK/demo/irt_r"
    fi
    "${J17[@]}" dev.irtj.bench.index.IndexBenchData demo --run "$DEMO_RUN" --fashion-mnist "$root/data/fashion-mnist" \
        --queries "$QUERIES" --k 10 --out "$WORK/demo-descriptors" 2>&1 | grep -v '^WARNING' >&2
    datasets+=("$WORK/demo-descriptors|$EF_DEMO")
fi

tag() { sed "s|^|$1 |"; }   # prefixes every line with the data set's name
# Lucene logs on stderr whether its vectorized code runs; that line is kept as INFO.
lucene_log() { grep -E '^(RESULT|INFO)|ectoriz' | sed -E 's/^(WARNING|INFO): /INFO lucene-log: /'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RESULTS.load"
for entry in "${datasets[@]}"; do
    data="${entry%%|*}"; efs="${entry##*|}"
    name="$(basename "$data")"
    common=(--data "$data" --m "$M" --beam "$BEAM" --ef "$efs" --threads "$THREADS" --exact-queries "$EXACT_QUERIES" --min-seconds "$MIN_SECONDS" --warm-builds "$WARM_BUILDS")
    pcommon=(--data "$data" --m "$M" --ef-construction "$BEAM" --ef "$efs" --threads "$THREADS" --exact-queries "$EXACT_QUERIES" --min-seconds "$MIN_SECONDS")
    for run in $(seq 1 "$RUNS"); do
        echo "INFO load average at the start of run $run: $(cut -d' ' -f1-3 /proc/loadavg)" | tag "$name" >> "$RESULTS"
        echo "$name run $run: irtj (LuceneIndex, JDK 17) ..." >&2
        "${J17[@]}" dev.irtj.bench.index.IndexBench --impl irtj --label irtj "${common[@]}" --work "$WORK" 2>&1 | lucene_log | tag "$name" >> "$RESULTS"
        if [[ "$NO_ARCHIVE_ROW" == 1 ]]; then
            echo "$name run $run: irtj without the class archive ..." >&2
            # Its builds are the point: one short search point only.
            "${J17_PLAIN[@]}" dev.irtj.bench.index.IndexBench --impl irtj --label irtj-noarchive "${common[@]}" \
                --exact-queries -1 --ef "${efs%%,*}" --threads 1 --warmup-seconds 0.2 --min-seconds 0.2 --work "$WORK" 2>&1 \
                | lucene_log | tag "$name" >> "$RESULTS"
        fi
        if [[ "$LUCENE_SEARCH" == 1 ]]; then
            echo "$name run $run: irtj with Lucene's graph search (-Dirtj.index.walk=false) ..." >&2
            "${J17[@]}" -Dirtj.index.walk=false dev.irtj.bench.index.IndexBench --impl irtj --label irtj-lucenesearch "${common[@]}" \
                --exact-queries -1 --work "$WORK" 2>&1 | lucene_log | tag "$name" >> "$RESULTS"
        fi
        if [[ "$LUCENE_BUILD" == 1 ]]; then
            echo "$name run $run: irtj with Lucene's graph builder (-Dirtj.index.builder=lucene) ..." >&2
            "${J17[@]}" -Dirtj.index.builder=lucene dev.irtj.bench.index.IndexBench --impl irtj --label irtj-lucenebuild "${common[@]}" \
                --exact-queries -1 --work "$WORK" 2>&1 | lucene_log | tag "$name" >> "$RESULTS"
        fi
        if [[ "$PLAIN9" == 1 ]]; then
            echo "$name run $run: plain Lucene 9.12, JDK 17 ..." >&2
            "${J17[@]}" dev.irtj.bench.index.IndexBench --impl plain --label lucene9 "${common[@]}" --work "$WORK" 2>&1 | lucene_log | tag "$name" >> "$RESULTS"
        fi
        if [[ "$PLAIN10" == 1 ]]; then
            echo "$name run $run: plain Lucene $LUCENE10, JDK 25 ..." >&2
            "${J25[@]}" dev.irtj.bench.index.IndexBench --impl plain --label lucene10 "${common[@]}" --work "$WORK" 2>&1 | lucene_log | tag "$name" >> "$RESULTS"
        fi
        for impl in faiss-hnsw faiss-flat hnswlib; do
            echo "$name run $run: $impl ..." >&2
            "$PYTHON" "$root/bench/index/ann_python.py" --impl "$impl" "${pcommon[@]}" | tag "$name" >> "$RESULTS"
        done
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RESULTS.load"

sed 's/^/# /' "$RESULTS.load"; rm -f "$RESULTS.load"
echo "# cores: $(nproc); N=$N dims=$DIMS queries=$RANDOM_QUERIES (random) $QUERIES (demo) M=$M efConstruction/beam=$BEAM exact queries=$EXACT_QUERIES runs=$RUNS (medians)"
echo "# $(java -version 2>&1 | head -1); $("$JDK25/bin/java" -version 2>&1 | head -1)"
"$PYTHON" "$root/bench/index/report.py" "$RESULTS"
