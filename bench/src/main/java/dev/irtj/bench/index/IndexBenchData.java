package dev.irtj.bench.index;

import dev.irtj.eval.Knn;
import dev.irtj.eval.Neighbors;
import dev.irtj.retrieval.DescriptorPipeline;
import dev.irtj.retrieval.ModelSource;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.data.Dataset;
import dev.irtj.train.data.Idx;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes the data sets of bench/index-vs-faiss.sh, with their exact top-k from irtj's
 * {@link Knn#search} (the ground truth every index is scored against):
 * DIR/meta.json ({@code n, queries, dims, k, name}), DIR/base.f32 [n, dims] and DIR/queries.f32
 * [queries, dims] (little-endian float32, L2-normalized rows), DIR/gt.i32 [queries, k]
 * (little-endian int32 row indices into base, best first).
 *
 * <pre>
 * IndexBenchData random --n N --dims 384 --queries Q --k 10 --seed S --out DIR
 * IndexBenchData demo --run RUN_FOLDER --fashion-mnist DIR --queries Q --k 10 --out DIR
 * </pre>
 *
 * {@code demo} describes the 10,000 Fashion-MNIST test images with the model of a run folder
 * that {@code irt demo} wrote (its IRT_R run), through {@link DescriptorPipeline}: the last Q
 * images are the queries, the others the database. Runs only on the project's JDK (it uses the
 * eval, retrieval and train modules).
 */
public final class IndexBenchData {
    private IndexBenchData() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) throw new IllegalArgumentException("random|demo, then options");
        String mode = args[0];
        java.util.Map<String, String> a = new java.util.HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        int queries = Integer.parseInt(a.getOrDefault("queries", "1000"));
        int k = Integer.parseInt(a.getOrDefault("k", "10"));
        Path out = Path.of(a.get("out"));
        Tensor base, query;
        String name;
        if (mode.equals("random")) {
            int n = Integer.parseInt(a.getOrDefault("n", "100000"));
            int dims = Integer.parseInt(a.getOrDefault("dims", "384"));
            Rng rng = new Rng(Long.parseLong(a.getOrDefault("seed", "1")));
            // Gaussian rows normalized: uniform on the unit sphere, the hardest case for a graph
            // index (no clusters, neighbours barely closer than anyone else).
            base = Tensor.randn(rng, DType.F32, n, dims).l2Normalize();
            query = Tensor.randn(rng, DType.F32, queries, dims).l2Normalize();
            name = "random-" + n + "x" + dims;
        } else if (mode.equals("demo")) {
            Path run = Path.of(a.get("run"));
            Path fm = Path.of(a.get("fashion-mnist"));
            Dataset all = Idx.read(fm.resolve("t10k-images-idx3-ubyte.gz"), fm.resolve("t10k-labels-idx1-ubyte.gz"), null);
            Tensor d;
            // The descriptor pipeline irt index uses, on the run folder as its model source.
            try (DescriptorPipeline pipeline = DescriptorPipeline.open(new ModelSource.Run(run),
                    DescriptorPipeline.Options.defaults().withBatch(200).withWorkers(2))) {
                d = pipeline.describe(all).vectors().to(dev.irtj.tensor.Device.CPU);
            }
            if (d.shape(0) != all.size()) throw new IllegalStateException(all.size() - d.shape(0) + " test images could not be described");
            int n = d.shape(0) - queries;
            base = d.narrow(0, 0, n).contiguous();
            query = d.narrow(0, n, queries).contiguous();
            name = "fashion-mnist-demo-" + d.shape(1) + "d";
        } else {
            throw new IllegalArgumentException("random|demo, got " + mode);
        }
        long start = System.nanoTime();
        Neighbors gt = Knn.search(query, base, k, false);
        System.err.printf(Locale.ROOT, "%s: exact top-%d of %d queries in %.1f s%n", name, k, queries, (System.nanoTime() - start) / 1e9);
        Files.createDirectories(out);
        writeFloats(out.resolve("base.f32"), base);
        writeFloats(out.resolve("queries.f32"), query);
        try (OutputStream o = Files.newOutputStream(out.resolve("gt.i32"))) {
            ByteBuffer b = ByteBuffer.allocate(k * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int[] row : gt.indices()) {
                b.clear();
                for (int v : row) b.putInt(v);
                o.write(b.array());
            }
        }
        Files.writeString(out.resolve("meta.json"), String.format(Locale.ROOT,
                "{\"n\": %d, \"queries\": %d, \"dims\": %d, \"k\": %d, \"name\": \"%s\"}%n", base.shape(0), queries, base.shape(1), k, name));
    }

    /** Row-major little-endian float32, written in slices (a 1M × 384 array is 1.5 GB). */
    private static void writeFloats(Path file, Tensor t) throws IOException {
        int rows = t.shape(0), cols = t.shape(1), step = Math.max(1, (1 << 22) / cols);
        try (OutputStream o = Files.newOutputStream(file)) {
            for (int r = 0; r < rows; r += step) {
                float[] f = t.narrow(0, r, Math.min(step, rows - r)).contiguous().toFloatArray();
                ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(f);
                o.write(b.array());
            }
        }
    }
}
