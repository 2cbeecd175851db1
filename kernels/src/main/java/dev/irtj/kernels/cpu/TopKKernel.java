package dev.irtj.kernels.cpu;

import dev.irtj.tensor.TopKSelector;

/**
 * Row top-k of F32 data for exact k-NN: each row through a {@link TopKSelector} (a threshold
 * that rejects most entries with one comparison, a buffer of about 2k and a quickselect), rows
 * split across {@link Parallel}'s pool. Values are read back from the row at the chosen
 * positions, so a −0 stays −0 (the selector's key folds it into +0).
 * Reference: {@code ReferenceBackend.topk}, a stable sort of each row.
 */
final class TopKKernel {
    private TopKKernel() {
    }

    /** Rows of {@code n} floats at x[from + r·n]; writes k values and positions per row. */
    static void rows(float[] x, int from, int rows, int n, int k, float[] values, long[] positions) {
        Parallel.forRange(rows, n, (r0, r1) -> {
            int[] idx = new int[k];
            float[] ignored = new float[k];
            for (int r = r0; r < r1; r++) {
                int base = from + r * n;
                TopKSelector s = new TopKSelector(k);
                s.offerRow(x, base, n, 0, -1);
                s.sortedInto(idx, ignored);
                for (int c = 0; c < k; c++) {
                    values[r * k + c] = x[base + idx[c]];
                    positions[r * k + c] = idx[c];
                }
            }
        });
    }
}
