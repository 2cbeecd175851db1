package dev.irtj.tensor;

/**
 * The best k (similarity, index) pairs of an F32 row seen so far, in {@link TopKPlan}'s order
 * (exact k-NN's: the CPU backend's top-k and dev.irtj.eval.Knn's merge of block results). Each
 * pair is packed into a long key whose ascending order is that order ({@link #key}). Candidates
 * that beat the current k-th best (the threshold) are appended to a buffer of about 2k keys; when it
 * fills, a quickselect keeps the best k and moves the threshold up. Most candidates are
 * rejected by one float comparison, and each accepted one costs O(1) amortized (a heap would
 * pay O(log k) unpredictable branches per accepted candidate).
 */
public final class TopKSelector {
    private final int k;
    private final long[] buf;
    private int size;
    /** Keys at or above this cannot enter (the k-th best key once k are known). */
    private long thresholdKey = Long.MAX_VALUE;
    /** Similarities below this cannot enter: a cheap pre-check equivalent to the key test. */
    private float thresholdSim = Float.NEGATIVE_INFINITY;

    public TopKSelector(int k) {
        if (k < 1) throw new IllegalArgumentException("a top-k selection needs k >= 1, got " + k);
        this.k = k;
        this.buf = new long[Math.max(2 * k, k + 64)];
    }

    /** Offers row[from .. from+n-1] as database items base .. base+n-1, skipping item {@code skip}. */
    public void offerRow(float[] row, int from, int n, int base, int skip) {
        float thr = thresholdSim;
        for (int c = 0; c < n; c++) {
            float sim = row[from + c];
            if (sim < thr) continue;
            int j = base + c;
            if (j == skip) continue;
            long key = key(sim, j);
            if (key >= thresholdKey) continue;
            buf[size++] = key;
            if (size == buf.length) {
                compact();
                thr = thresholdSim;
            }
        }
    }

    /** Offers one candidate: similarity {@code sim} of item {@code index}. */
    public void offer(float sim, int index) {
        if (sim < thresholdSim) return;
        long key = key(sim, index);
        if (key >= thresholdKey) return;
        buf[size++] = key;
        if (size == buf.length) compact();
    }

    /** Keeps the best k keys and raises the threshold to the k-th. */
    private void compact() {
        selectSmallest(buf, size, k);
        size = k;
        thresholdKey = buf[k - 1];
        float t = similarity(thresholdKey);
        thresholdSim = t != t ? Float.NEGATIVE_INFINITY : t; // a NaN threshold leaves only the key test
    }

    /** Writes the best min(k, seen) entries, best first; returns how many. */
    public int sortedInto(int[] outIdx, float[] outSim) {
        if (size > k) {
            selectSmallest(buf, size, k);
            size = k;
        }
        java.util.Arrays.sort(buf, 0, size);
        for (int i = 0; i < size; i++) {
            outIdx[i] = index(buf[i]);
            outSim[i] = similarity(buf[i]);
        }
        return size;
    }

    /**
     * A long whose ascending order is the ranking order of (similarity, index) pairs: the high
     * 32 bits order similarities descending (NaN after −∞; −0 is folded into +0, as the two are
     * equal similarities), the low 32 bits hold the (non-negative) index.
     */
    public static long key(float sim, int index) {
        int desc;
        if (sim != sim) {
            desc = Integer.MAX_VALUE;
        } else {
            int bits = Float.floatToRawIntBits(sim + 0.0f);
            desc = ~(bits ^ ((bits >> 31) & 0x7fffffff)); // floats as ordered ints, then reversed
        }
        return ((long) desc << 32) | (index & 0xffffffffL);
    }

    public static int index(long key) {
        return (int) key;
    }

    public static float similarity(long key) {
        int desc = (int) (key >>> 32);
        if (desc == Integer.MAX_VALUE) return Float.NaN;
        int ordered = ~desc;
        return Float.intBitsToFloat(ordered ^ ((ordered >> 31) & 0x7fffffff));
    }

    /**
     * Reorders a[0..n) so that a[0..m) holds its m smallest values (in no particular order) and
     * a[m-1] is the largest of them: quickselect with median-of-three pivots, falling back to a
     * sort after too many rounds. Values must be distinct (keys are, by their index).
     */
    public static void selectSmallest(long[] a, int n, int m) {
        if (m >= n) return;
        int lo = 0, hi = n - 1, target = m - 1;
        for (int round = 0; hi > lo; round++) {
            if (round > 64) {
                java.util.Arrays.sort(a, lo, hi + 1);
                return;
            }
            int mid = (lo + hi) >>> 1;
            long x = a[lo], y = a[mid], z = a[hi];
            long pivot = x < y ? (y < z ? y : Math.max(x, z)) : (x < z ? x : Math.max(y, z));
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) {
                    long t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                return; // a[target] is the pivot itself, in place
            }
        }
    }
}
