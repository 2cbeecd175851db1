package dev.irtj.kernels.cpu;

import dev.irtj.tensor.Tensor;

/**
 * Gathers a strided view into a contiguous array (and scatters back): the permute/transpose
 * copies of attention reshapes. The innermost dim is copied as a run (arraycopy when its stride
 * is 1); the outer dims are walked with an odometer. Parallel over outer rows when large.
 */
final class StridedCopy {
    private StridedCopy() {
    }

    /** Copies the elements of view {@code t} over {@code src} into {@code dst[dstOff...]} in row-major order. */
    static void gather(float[] src, Tensor t, float[] dst, int dstOff) {
        walk(t, src, dst, dstOff, false);
    }

    /** Writes contiguous {@code src[srcOff...]} into the strided view {@code t} over {@code dst}. */
    static void scatter(float[] src, int srcOff, float[] dst, Tensor t) {
        walk(t, dst, src, srcOff, true);
    }

    /**
     * Walks view {@code t} over {@code viewData} in row-major order beside the dense block
     * {@code dense[denseOff...]}, copying dense → view when {@code intoView}, else view → dense.
     */
    private static void walk(Tensor t, float[] viewData, float[] dense, int denseOff, boolean intoView) {
        int[] shape = t.shape(), strides = t.strides();
        int rank = shape.length, n = t.numel();
        if (n == 0) return;
        if (rank == 0) {
            if (intoView) viewData[t.offset()] = dense[denseOff];
            else dense[denseOff] = viewData[t.offset()];
            return;
        }
        int inner = shape[rank - 1], innerStride = strides[rank - 1];
        int rows = n / inner;
        Parallel.forRange(rows, inner, (from, to) -> {
            int[] coord = new int[rank - 1];
            int pos = startOffset(t.offset(), from, shape, strides, coord);
            for (int r = from; r < to; r++) {
                int d = denseOff + r * inner;
                if (innerStride == 1) {
                    if (intoView) System.arraycopy(dense, d, viewData, pos, inner);
                    else System.arraycopy(viewData, pos, dense, d, inner);
                } else if (intoView) {
                    for (int j = 0, p = pos; j < inner; j++, p += innerStride) viewData[p] = dense[d + j];
                } else {
                    for (int j = 0, p = pos; j < inner; j++, p += innerStride) dense[d + j] = viewData[p];
                }
                pos = advance(pos, shape, strides, coord);
            }
        });
    }

    /** Storage position of outer row {@code row}; fills the outer-dim coordinates. */
    private static int startOffset(int base, int row, int[] shape, int[] strides, int[] coord) {
        int pos = base;
        for (int d = coord.length - 1; d >= 0; d--) {
            coord[d] = row % shape[d];
            row /= shape[d];
            pos += coord[d] * strides[d];
        }
        return pos;
    }

    private static int advance(int pos, int[] shape, int[] strides, int[] coord) {
        for (int d = coord.length - 1; d >= 0; d--) {
            if (++coord[d] < shape[d]) return pos + strides[d];
            pos -= (shape[d] - 1) * strides[d];
            coord[d] = 0;
        }
        return pos;
    }
}
