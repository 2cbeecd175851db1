package dev.irtj.kernels.cuda;

/**
 * How our GEMM kernels cut a product along k so that a small output still fills the GPU
 * (split-K): {@code splits} blocks per output tile, each summing {@code kChunk} consecutive
 * products into a workspace, then a second kernel adding the partials in a fixed order
 * (gemm.cuh's splitk_reduce), so the result is the same bits on every run on a device of the
 * same SM count. The typical case is a weight gradient: [384 × 1536] from k = 12,608 tokens is 36
 * tiles of 128 × 128 on 132 SMs; cut 7 ways it is 252 blocks, one wave at two blocks per SM.
 */
record SplitK(int splits, int kChunk) {
    /** Output tile edge of both kernels (gemm_fp32.cu, gemm_tf32.cu). */
    static final int TILE = 128;
    /** A chunk is a multiple of both kernels' k slice (8 and 16), so only the last one is short. */
    static final int CHUNK_MULTIPLE = 16;
    /** Below this many products per slice, the workspace traffic outweighs the parallelism. */
    static final int MIN_K_PER_SPLIT = 256;
    static final int MAX_SPLITS = 32;
    /** Workspace cap, in elements (256 MiB of F32). */
    static final long MAX_WORKSPACE = 1L << 26;
    /** Blocks of the kernels resident per SM (their __launch_bounds__(256, 2)). */
    static final int BLOCKS_PER_SM = 2;
    /** gridDim.z's limit, which holds batch × splits. */
    static final int MAX_GRID_Z = 65535;

    static final SplitK NONE = new SplitK(1, 0);

    /**
     * The cut for an m × n output of {@code batch} entries over k on a GPU of
     * {@code multiprocessors} SMs: none when the output tiles already give every SM a block or k
     * is short; otherwise as many slices as fit in one wave of blocks, each at least
     * {@link #MIN_K_PER_SPLIT} deep, within the workspace and grid limits.
     */
    static SplitK choose(int m, int n, int k, int batch, int multiprocessors) {
        if (m <= 0 || n <= 0 || k <= 0 || batch <= 0 || multiprocessors <= 0) return NONE;
        long tiles = (long) ceilDiv(m, TILE) * ceilDiv(n, TILE) * batch;
        if (tiles >= multiprocessors || k < 2 * MIN_K_PER_SPLIT) return NONE;
        long wave = (long) BLOCKS_PER_SM * multiprocessors;
        long splits = Math.min(wave / tiles, k / MIN_K_PER_SPLIT);
        splits = Math.min(splits, MAX_SPLITS);
        splits = Math.min(splits, MAX_GRID_Z / batch);
        splits = Math.min(splits, MAX_WORKSPACE / ((long) batch * m * n));
        if (splits < 2) return NONE;
        int chunk = ceilDiv(ceilDiv(k, (int) splits), CHUNK_MULTIPLE) * CHUNK_MULTIPLE;
        // Rounding the chunk up may leave the last slices empty: count only those with work.
        int used = ceilDiv(k, chunk);
        return used < 2 ? NONE : new SplitK(used, chunk);
    }

    boolean isSplit() {
        return splits > 1;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
