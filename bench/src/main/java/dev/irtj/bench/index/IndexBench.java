package dev.irtj.bench.index;

import dev.irtj.index.IndexedImage;
import dev.irtj.index.VectorIndex;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JVM side of bench/index-vs-faiss.sh: builds an index over the data set that
 * {@code IndexBenchData} wrote (meta.json, base.f32, queries.f32, gt.i32), then measures
 * recall@k against the exact neighbours and queries/s over a sweep of efSearch and thread counts,
 * and the exact mode. It prints the same RESULT lines as ann_python.py.
 *
 * <p>The index is driven through {@link VectorIndex} only: upsert in batches, commit, one
 * {@code search(query, k)} per query, ids parsed back from the hits. {@code --impl irtj} is
 * irtj's {@code LuceneIndex} (through {@code IrtjIndexes}, which exists only in the Maven-built
 * bench module, hence the reflection); {@code --impl plain} is {@link PlainLuceneIndex}. This
 * class and PlainLuceneIndex are also compiled by the script against Lucene 10 for JDK 25, so they
 * use nothing of irtj beyond the three VectorIndex contract files.
 *
 * <p>Usage: IndexBench --data DIR --impl irtj|plain [--label NAME] [--m 16] [--beam 100]
 * [--ef 10,20,40] [--threads 1,2] [--exact-queries 0 (all; -1: none)] [--warmup 200] [--warm-builds 0] [--warmup-seconds 3] [--min-seconds 2] [--int8]
 * [--work DIR]
 */
public final class IndexBench {
    private IndexBench() {
    }

    /** What the harness needs beyond VectorIndex: the two search settings it sweeps. */
    public interface Tunable extends VectorIndex {
        void efSearch(int ef);

        void exact(boolean on);
    }

    /** A data set as IndexBenchData writes it. */
    record Data(int n, int queries, int dims, int k, float[][] base, float[][] query, int[][] gt) {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parse(args);
        Path data = Path.of(require(a, "data"));
        String impl = require(a, "impl");
        String label = a.getOrDefault("label", impl);
        int m = Integer.parseInt(a.getOrDefault("m", "16"));
        int beam = Integer.parseInt(a.getOrDefault("beam", "100"));
        int[] efs = ints(a.getOrDefault("ef", "10,20,40"));
        int[] threads = ints(a.getOrDefault("threads", "1,2"));
        int exactQueries = Integer.parseInt(a.getOrDefault("exact-queries", "0"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "200"));
        int warmBuilds = Integer.parseInt(a.getOrDefault("warm-builds", "0"));
        boolean int8 = a.containsKey("int8");
        double minSeconds = Double.parseDouble(a.getOrDefault("min-seconds", "2"));
        double warmupSeconds = Double.parseDouble(a.getOrDefault("warmup-seconds", "3"));
        Path work = Files.createTempDirectory(Path.of(a.getOrDefault("work", System.getProperty("java.io.tmpdir"))), "index-bench-");

        Data d = load(data);
        System.out.printf(Locale.ROOT, "INFO %s java %s n=%d queries=%d dims=%d k=%d m=%d beam=%d int8=%s%n", label,
                Runtime.version(), d.n(), d.queries(), d.dims(), d.k(), m, beam, int8);
        try (Tunable index = open(impl, work.resolve("index"), d.dims(), m, beam, int8)) {
            build(index, d, label, "build");
            // The same build again in this process, into throw-away indexes: the last one runs
            // compiled code, so cold minus warm is what the JIT's warm-up costs the first build.
            for (int w = 1; w <= warmBuilds; w++) {
                try (Tunable again = open(impl, work.resolve("index-warm-" + w), d.dims(), m, beam, int8)) {
                    build(again, d, label, w == warmBuilds ? "build-warm" : null);
                }
            }
            // Each segment has its own graph, searched one after the other: worth knowing beside the figures.
            try (var dir = org.apache.lucene.store.FSDirectory.open(work.resolve("index"))) {
                System.out.printf(Locale.ROOT, "INFO %s segments=%d%n", label,
                        org.apache.lucene.index.SegmentInfos.readLatestCommit(dir).size());
            }

            // Untimed passes over every query first, for warmupSeconds at least: the timed passes
            // then run compiled code (the first sweep point would otherwise pay for the JIT,
            // which one pass of a fast setting does not finish).
            index.efSearch(efs[0]);
            long warm = System.nanoTime();
            do {
                runQueries(index, d.query(), d.k(), threads[threads.length - 1]);
            } while (System.nanoTime() - warm < warmupSeconds * 1e9);
            for (int t : threads) {
                for (int ef : efs) {
                    index.efSearch(ef);
                    measure(label, index, d, d.queries(), t, ef, warmup, minSeconds);
                }
            }
            if (exactQueries >= 0) {
                int q = exactQueries == 0 ? d.queries() : Math.min(exactQueries, d.queries());
                index.exact(true);
                for (int t : threads) measure(label + "-exact", index, d, q, t, 0, Math.min(warmup, q), minSeconds);
            }
        } finally {
            deleteTree(work);
        }
    }

    static Tunable open(String impl, Path dir, int dims, int m, int beam, boolean int8) throws Exception {
        switch (impl) {
            case "plain":
                return new PlainLuceneIndex(dir, dims, m, beam, int8);
            case "irtj":
                // IrtjIndexes is compiled only in the Maven build (it names LuceneIndex).
                return (Tunable) Class.forName("dev.irtj.bench.index.IrtjIndexes")
                        .getMethod("open", Path.class, int.class, int.class, int.class, boolean.class)
                        .invoke(null, dir, dims, m, beam, int8);
            default:
                throw new IllegalArgumentException("--impl irtj|plain, got " + impl);
        }
    }

    /**
     * Queries/s of whole passes over the first {@code queries} queries, repeated until
     * {@code minSeconds} have passed (one pass of a fast setting is a fraction of a second, too
     * short to average out the other processes on a shared machine); recall from the first pass.
     * On one thread also queries per CPU second of that thread ({@code cpu_qps}): the queries
     * run on the calling thread then, and its CPU time does not count the time other processes
     * hold the cores, which on a loaded machine is most of the wall-clock time.
     */
    private static void measure(String label, Tunable index, Data d, int queries, int threads, int ef, int warmup, double minSeconds)
            throws Exception {
        float[][] qs = Arrays.copyOf(d.query(), queries);
        runQueries(index, Arrays.copyOf(qs, Math.min(warmup, queries)), d.k(), threads);
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long start = System.nanoTime();
        long cpuStart = mx.getCurrentThreadCpuTime();
        int[][] found = runQueries(index, qs, d.k(), threads);
        long answered = queries;
        while (System.nanoTime() - start < minSeconds * 1e9) {
            runQueries(index, qs, d.k(), threads);
            answered += queries;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        String cpu = threads == 1 ? String.format(Locale.ROOT, " cpu_qps=%.2f", answered / ((mx.getCurrentThreadCpuTime() - cpuStart) / 1e9)) : "";
        System.out.printf(Locale.ROOT, "RESULT impl=%s op=search threads=%d ef=%d qps=%.2f recall=%.4f queries=%d%s%n", label, threads, ef,
                answered / seconds, recall(found, d.gt(), d.k()), queries, cpu);
    }

    /**
     * Upserts every base vector in batches of 1000, then commits (irtj's index builds the HNSW
     * graph at the flush, Lucene's builder and plain Lucene as documents arrive); prints {@code RESULT op=OP} with wall
     * seconds, the process's CPU seconds (JIT compiler and GC threads included) and the JIT's
     * compilation seconds over the same span (its compiler threads' time, also inside the CPU
     * figure), unless op is null. Index opening is outside the span, as FAISS's index
     * construction is outside ann_python.py's.
     */
    private static void build(Tunable index, Data d, String label, String op) throws Exception {
        long start = System.nanoTime();
        long cpuStart = processCpuNanos();
        long jitStart = jitMillis();
        List<IndexedImage> batch = new ArrayList<>(1000);
        for (int i = 0; i < d.n(); i++) {
            String id = Integer.toString(i);
            batch.add(new IndexedImage(id, id, d.base()[i], null, 0, 0, 0, 0, Map.of()));
            if (batch.size() == 1000 || i == d.n() - 1) {
                index.upsert(batch);
                batch.clear();
            }
        }
        index.commit();
        if (op != null) {
            System.out.printf(Locale.ROOT, "RESULT impl=%s op=%s threads=1 seconds=%.3f cpu_seconds=%.3f jit_seconds=%.3f%n", label, op,
                    (System.nanoTime() - start) / 1e9, (processCpuNanos() - cpuStart) / 1e9, (jitMillis() - jitStart) / 1e3);
        }
    }

    private static long jitMillis() {
        var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    /** CPU time of the whole process (JIT and GC threads included), in nanoseconds. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Answers every query, one search call each, on {@code threads} threads taking the next query. */
    static int[][] runQueries(VectorIndex index, float[][] queries, int k, int threads) throws Exception {
        int[][] found = new int[queries.length][];
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            try {
                for (int i = next.getAndIncrement(); i < queries.length; i = next.getAndIncrement()) {
                    List<VectorIndex.Hit> hits = index.search(queries[i], k);
                    int[] ids = new int[hits.size()];
                    for (int h = 0; h < ids.length; h++) ids[h] = Integer.parseInt(hits.get(h).image().id());
                    found[i] = ids;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        if (threads == 1) {
            worker.run();
        } else {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < threads; t++) fs.add(pool.submit(worker));
                for (Future<?> f : fs) f.get();
            } finally {
                pool.shutdown();
            }
        }
        return found;
    }

    /** Mean over queries of |found top-k ∩ exact top-k| / k. */
    static double recall(int[][] found, int[][] gt, int k) {
        long hits = 0;
        for (int q = 0; q < found.length; q++) {
            for (int f : found[q]) {
                for (int r = 0; r < k; r++) {
                    if (gt[q][r] == f) {
                        hits++;
                        break;
                    }
                }
            }
        }
        return hits / (double) ((long) k * found.length);
    }

    static Data load(Path dir) throws IOException {
        String meta = Files.readString(dir.resolve("meta.json"));
        int n = jsonInt(meta, "n"), q = jsonInt(meta, "queries"), dims = jsonInt(meta, "dims"), k = jsonInt(meta, "k");
        float[][] base = floats(dir.resolve("base.f32"), n, dims);
        float[][] query = floats(dir.resolve("queries.f32"), q, dims);
        int[][] gt = new int[q][k];
        var ib = map(dir.resolve("gt.i32"), (long) q * k * 4).asIntBuffer();
        for (int i = 0; i < q; i++) ib.get(gt[i]);
        return new Data(n, q, dims, k, base, query, gt);
    }

    private static float[][] floats(Path file, int rows, int cols) throws IOException {
        ByteBuffer b = map(file, (long) rows * cols * 4);
        float[][] out = new float[rows][cols];
        var fb = b.asFloatBuffer();
        for (int r = 0; r < rows; r++) fb.get(out[r]);
        return out;
    }

    private static ByteBuffer map(Path file, long bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() != bytes) throw new IOException(file + " has " + ch.size() + " bytes, meta.json says " + bytes);
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** The integer field {@code key} of IndexBenchData's flat meta.json (no JSON library on the JDK 25 class path). */
    private static int jsonInt(String json, String key) {
        Matcher mt = Pattern.compile("\"" + key + "\"\\s*:\\s*(\\d+)").matcher(json);
        if (!mt.find()) throw new IllegalArgumentException("meta.json has no \"" + key + "\"");
        return Integer.parseInt(mt.group(1));
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) throw new IllegalArgumentException("unexpected argument " + args[i]);
            String key = args[i].substring(2);
            if (key.equals("int8")) {
                a.put(key, "true");
            } else {
                if (i + 1 >= args.length) throw new IllegalArgumentException(args[i] + " needs a value");
                a.put(key, args[++i]);
            }
        }
        return a;
    }

    private static String require(Map<String, String> a, String key) {
        String v = a.get(key);
        if (v == null) throw new IllegalArgumentException("--" + key + " is required");
        return v;
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
