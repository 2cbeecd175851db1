package dev.irtj.kernels.cuda;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The split-K choice ({@link SplitK}), on the host: the ViT-S weight gradients and the invariants the kernels rely on. */
class SplitKTest {
    private static final int H100_SMS = 132;

    @Test
    void vitSmallWeightGradientsFillOneWave() {
        // DeiT-S at batch 64: 64 × 197 = 12,608 tokens. [out, in] weight gradients of qkv, proj, fc1, fc2.
        int tokens = 12_608;
        int[][] shapes = {{1152, 384}, {384, 384}, {1536, 384}, {384, 1536}};
        int[] expectedSplits = {9, 29, 7, 7};
        for (int i = 0; i < shapes.length; i++) {
            int m = shapes[i][0], n = shapes[i][1];
            SplitK s = SplitK.choose(m, n, tokens, 1, H100_SMS);
            long tiles = (long) ((m + 127) / 128) * ((n + 127) / 128);
            assertEquals(expectedSplits[i], s.splits(), m + "x" + n);
            assertTrue(tiles * s.splits() <= 2L * H100_SMS, m + "x" + n + ": one wave of blocks at two per SM, got " + tiles * s.splits());
            assertTrue(tiles * s.splits() > H100_SMS, m + "x" + n + ": more blocks than SMs, got " + tiles * s.splits());
        }
    }

    @Test
    void largeOutputsAndShortSumsAreNotSplit() {
        // Forward products of a ViT-S step: 12,608 × 1536 output, k = 384.
        assertFalse(SplitK.choose(12_608, 1536, 384, 1, H100_SMS).isSplit());
        // Attention scores: batched [197 × 197] over 64 heads·images, k = 64.
        assertFalse(SplitK.choose(197, 197, 64, 384, H100_SMS).isSplit());
        // A small output over a short k: nothing to gain.
        assertFalse(SplitK.choose(64, 64, 300, 1, H100_SMS).isSplit());
        assertEquals(SplitK.NONE, SplitK.choose(0, 5, 10_000, 1, H100_SMS));
    }

    @Property(tries = 2000)
    void everySliceHasWorkAndTheLimitsHold(@ForAll @IntRange(min = 1, max = 5000) int m, @ForAll @IntRange(min = 1, max = 5000) int n,
                                           @ForAll @IntRange(min = 1, max = 200_000) int k, @ForAll @IntRange(min = 1, max = 300) int batch,
                                           @ForAll @IntRange(min = 1, max = 200) int sms) {
        SplitK s = SplitK.choose(m, n, k, batch, sms);
        if (!s.isSplit()) {
            assertEquals(1, s.splits());
            return;
        }
        long tiles = (long) ((m + 127) / 128) * ((n + 127) / 128) * batch;
        assertTrue(tiles < sms, "split only when the tiles leave SMs idle");
        assertEquals(0, s.kChunk() % SplitK.CHUNK_MULTIPLE, "chunks are whole k slices of both kernels");
        assertTrue((long) (s.splits() - 1) * s.kChunk() < k && (long) s.splits() * s.kChunk() >= k, "every slice has work and k is covered");
        assertTrue(s.kChunk() >= SplitK.MIN_K_PER_SPLIT - SplitK.CHUNK_MULTIPLE, "slices are deep enough: " + s);
        assertTrue(s.splits() <= SplitK.MAX_SPLITS && (long) batch * s.splits() <= SplitK.MAX_GRID_Z, "grid limits: " + s);
        assertTrue((long) s.splits() * batch * m * n <= SplitK.MAX_WORKSPACE, "workspace cap: " + s);
        assertTrue(tiles * s.splits() <= (long) SplitK.BLOCKS_PER_SM * sms, "at most one wave: " + s);
    }
}
