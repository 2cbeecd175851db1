package dev.irtj.tensor;

/** Maps row-major element positions of a strided view to positions in its storage. */
public final class StridedIndex {
    private StridedIndex() {
    }

    /** Storage position of every element of {@code t}, in row-major order. */
    public static int[] offsets(Tensor t) {
        int[] shape = t.shape(), strides = t.strides();
        int n = t.numel();
        int[] out = new int[n];
        if (n == 0) return out;
        int rank = shape.length;
        int[] counter = new int[rank];
        int pos = t.offset();
        for (int i = 0; i < n; i++) {
            out[i] = pos;
            for (int d = rank - 1; d >= 0; d--) {
                if (++counter[d] < shape[d]) {
                    pos += strides[d];
                    break;
                }
                pos -= (shape[d] - 1) * strides[d];
                counter[d] = 0;
            }
        }
        return out;
    }

    /** Coordinates of row-major position {@code linear} in {@code shape}, written into {@code coord}. */
    public static void coordinates(int linear, int[] shape, int[] coord) {
        for (int d = shape.length - 1; d >= 0; d--) {
            int s = shape[d];
            coord[d] = s == 0 ? 0 : linear % s;
            linear = s == 0 ? 0 : linear / s;
        }
    }

    /** Row-major position of {@code coord} in a contiguous tensor of {@code shape}. */
    public static int linear(int[] coord, int[] shape) {
        int p = 0;
        for (int d = 0; d < shape.length; d++) p = p * shape[d] + coord[d];
        return p;
    }
}
