package dev.irtj.kernels.cpu;

/**
 * What every CPU kernel family shares besides arithmetic: the check of an array block, the split
 * of elementwise work at fixed element multiples, and the cost estimate handed to {@link Parallel}.
 *
 * <p>Layout: a {@code [rows × n]} block of an array starts at an offset and is row-major with no
 * gaps, so row {@code r} occupies {@code [off + r·n, off + (r+1)·n)}. An output may be the very
 * same block (same array, same offset) as any input, since every element is read before its own
 * output is written; partially overlapping blocks are not supported.
 */
final class KernelBlocks {
    /** Elementwise kernels split work at multiples of this (a multiple of every species length). */
    static final int ELEM_BLOCK = 8192;
    /** Rows per partial sum in cross-row reductions; fixed, so sums do not depend on the thread count. */
    static final int ROW_BLOCK = 64;

    private KernelBlocks() {
    }

    /** Runs body over [0, count) in chunks that start at multiples of {@link #ELEM_BLOCK}. */
    static void forElements(int count, int costPerElement, Parallel.Range body) {
        int blocks = (int) (((long) count + ELEM_BLOCK - 1) / ELEM_BLOCK);
        Parallel.forRange(blocks, (long) ELEM_BLOCK * costPerElement,
                (b0, b1) -> body.run(b0 * ELEM_BLOCK, (int) Math.min(count, (long) b1 * ELEM_BLOCK)));
    }

    static long rowCost(int n, int perElement) {
        return Math.max(1L, (long) n * perElement);
    }

    static void checkBlock(String what, float[] a, int off, int rows, int n) {
        if (a == null) throw new NullPointerException(what + " is null");
        if (rows < 0 || n < 0) throw new IllegalArgumentException(what + ": negative size " + rows + " × " + n);
        long need = (long) rows * n;
        if (off < 0 || off + need > a.length) {
            throw new IndexOutOfBoundsException(what + ": " + need + " elements at offset " + off
                    + " do not fit in an array of " + a.length);
        }
    }
}
