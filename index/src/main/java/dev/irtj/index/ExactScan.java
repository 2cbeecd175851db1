package dev.irtj.index;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Brute-force top-k of one query against every column of a [D, N] row-major matrix, for the
 * exact mode: one pass over the matrix (single queries are bound by memory bandwidth, and a
 * matrix product would first copy each database block into its packed layout).
 *
 * <p>It gives {@link dev.irtj.eval.Knn#search}'s results bit for bit on the CPU backend, which
 * computes each similarity in its GEMM as one fused multiply-add chain over k in order, in k
 * slices of at most {@link #K_SLICE} (the slices are as equal as possible and added in order).
 * This class does the same arithmetic, with SIMD lanes over database items instead of over
 * output columns, and orders results the same way (larger similarity first, then the smaller
 * index; -0 reported as 0). {@code LuceneIndexTest.exactModeEqualsKnnSearchExactly} holds the two
 * equal; should the GEMM's k slicing change, that test says so.
 */
final class ExactScan {
    /** Sgemm's k slice (its {@code KC}). */
    static final int K_SLICE = 768;
    /** Items per block: the block's partial sums (2 KiB) stay in L1 while each matrix row streams past. */
    private static final int BLOCK = 512;
    /** Below this many multiply-adds the scan stays on the calling thread. */
    private static final long PARALLEL_THRESHOLD = 1L << 18;

    private static final boolean SIMD = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    /**
     * Threads one large scan may use: {@code -Dirtj.threads=N} as for the CPU backend (default
     * all cores). With 1 every scan stays on the calling thread, so a server's (or benchmark's)
     * own request threads are the only parallelism.
     */
    private static final int THREADS = Math.max(1, Integer.getInteger("irtj.threads", Runtime.getRuntime().availableProcessors()));

    private ExactScan() {
    }

    /** The k best (best first): item indices and similarities. */
    record Result(int[] indices, float[] similarities) {
    }

    static Result topK(float[] xt, int n, int d, float[] q, int k) {
        return topK(xt, n, d, q, k, THREADS);
    }

    /** As {@link #topK(float[], int, int, float[], int)} on at most {@code threads} threads (the same result on any number). */
    static Result topK(float[] xt, int n, int d, float[] q, int k, int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        int kk = Math.min(k, n);
        if (kk == 0) return new Result(new int[0], new float[0]);
        int parts = (long) n * d < PARALLEL_THRESHOLD ? 1 : Math.min(threads, Math.max(1, n / BLOCK));
        long[][] best = new long[parts][];
        IntStream range = IntStream.range(0, parts);
        if (parts > 1) range = range.parallel();
        range.forEach(p -> {
            int lo = (int) ((long) n * p / parts), hi = (int) ((long) n * (p + 1) / parts);
            best[p] = scan(xt, n, d, q, kk, lo, hi);
        });
        long[] all = best.length == 1 ? best[0] : Arrays.stream(best).flatMapToLong(Arrays::stream).toArray();
        Arrays.sort(all);
        int m = Math.min(kk, all.length);
        int[] idx = new int[m];
        float[] sims = new float[m];
        for (int i = 0; i < m; i++) {
            idx[i] = index(all[i]);
            sims[i] = similarity(all[i]);
        }
        return new Result(idx, sims);
    }

    /** The best k keys of items lo..hi-1 (unsorted). */
    private static long[] scan(float[] xt, int n, int d, float[] q, int k, int lo, int hi) {
        Heap heap = new Heap(k);
        float[] acc = new float[BLOCK], sum = new float[BLOCK];
        int slices = (d + K_SLICE - 1) / K_SLICE;
        int slice = (d + slices - 1) / slices;
        for (int r0 = lo; r0 < hi; r0 += BLOCK) {
            int bl = Math.min(BLOCK, hi - r0);
            for (int k0 = 0; k0 < d; k0 += slice) {
                int k1 = Math.min(d, k0 + slice);
                Arrays.fill(acc, 0, bl, 0f);
                if (SIMD) {
                    Simd.chain(xt, n, q, r0, bl, k0, k1, acc);
                } else {
                    scalarChain(xt, n, q, r0, bl, k0, k1, acc);
                }
                if (k0 == 0) {
                    System.arraycopy(acc, 0, sum, 0, bl);
                } else {
                    for (int j = 0; j < bl; j++) sum[j] += acc[j];
                }
            }
            for (int j = 0; j < bl; j++) heap.offer(sum[j], r0 + j);
        }
        return heap.keys();
    }

    /** acc[j] = fma(q[kk], x[kk][r0 + j], acc[j]) for kk = k0 .. k1-1, in order. */
    static void scalarChain(float[] xt, int n, float[] q, int r0, int bl, int k0, int k1, float[] acc) {
        for (int kk = k0; kk < k1; kk++) {
            float qk = q[kk];
            int base = kk * n + r0;
            for (int j = 0; j < bl; j++) acc[j] = Math.fma(qk, xt[base + j], acc[j]);
        }
    }

    /** The Vector API form of {@link #scalarChain} (same operations per item, lanes over items). */
    private static final class Simd {
        /** The CPU backend's one vector shape (see DESIGN: a second shape makes C2 box every kernel). */
        static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED.length() >= 8
                ? FloatVector.SPECIES_PREFERRED : FloatVector.SPECIES_256;

        static void chain(float[] xt, int n, float[] q, int r0, int bl, int k0, int k1, float[] acc) {
            int vl = SPECIES.length();
            int full = bl - bl % vl;
            for (int kk = k0; kk < k1; kk++) {
                float qk = q[kk];
                FloatVector qv = FloatVector.broadcast(SPECIES, qk);
                int base = kk * n + r0;
                for (int j = 0; j < full; j += vl) {
                    FloatVector x = FloatVector.fromArray(SPECIES, xt, base + j);
                    FloatVector a = FloatVector.fromArray(SPECIES, acc, j);
                    x.fma(qv, a).intoArray(acc, j);
                }
                for (int j = full; j < bl; j++) acc[j] = Math.fma(qk, xt[base + j], acc[j]);
            }
        }
    }

    /** A bounded max-heap of keys: the k smallest (best) seen. */
    private static final class Heap {
        private final long[] a;
        private int size;
        private float worst = Float.NEGATIVE_INFINITY;   // once full: similarities below this cannot enter

        Heap(int k) {
            a = new long[k];
        }

        void offer(float sim, int index) {
            if (size == a.length && sim < worst) return;
            long key = key(sim, index);
            if (size < a.length) {
                a[size] = key;
                up(size++);
                if (size == a.length) worst = similarity(a[0]);
            } else if (key < a[0]) {
                a[0] = key;
                down();
                worst = similarity(a[0]);
            }
        }

        private void up(int i) {
            long x = a[i];
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] >= x) break;
                a[i] = a[p];
                i = p;
            }
            a[i] = x;
        }

        private void down() {
            long x = a[0];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= size) break;
                if (c + 1 < size && a[c + 1] > a[c]) c++;
                if (a[c] <= x) break;
                a[i] = a[c];
                i = c;
            }
            a[i] = x;
        }

        long[] keys() {
            return Arrays.copyOf(a, size);
        }
    }

    /**
     * A long whose ascending order is the ranking order: the high 32 bits order similarities
     * descending (-0 folded into +0), the low 32 bits hold the index. Similarities are finite
     * (stored vectors and queries are checked).
     */
    static long key(float sim, int index) {
        int bits = Float.floatToRawIntBits(sim + 0.0f);
        int desc = ~(bits ^ ((bits >> 31) & 0x7fffffff));
        return ((long) desc << 32) | (index & 0xffffffffL);
    }

    static int index(long key) {
        return (int) key;
    }

    static float similarity(long key) {
        int ordered = ~(int) (key >>> 32);
        return Float.intBitsToFloat(ordered ^ ((ordered >> 31) & 0x7fffffff));
    }
}
