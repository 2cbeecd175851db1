package dev.irtj.kernels.cuda;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our GEMM's launches stay within CUDA's grid limits (gridDim.y: row tiles, gridDim.z: batch
 * entries, each at most 65535) and cover every (batch entry, row) exactly once, and a sliced
 * plan addresses the same elements as the whole one: checked on the host, without a GPU.
 */
class GemmGridTest {

    /** Every (entry, row) covered once, every grid within the limits; returns the number of launches. */
    private static int checkCover(int m, int batch) {
        List<CudaGemm.Launch> launches = CudaGemm.launches(m, batch);
        long covered = 0;
        long[] seen = new long[batch];
        for (CudaGemm.Launch l : launches) {
            assertTrue(l.gridY() >= 1 && l.gridY() <= CudaGemm.MAX_GRID_YZ, "gridDim.y " + l.gridY() + " for m=" + m);
            assertTrue(l.batchCount() >= 1 && l.batchCount() <= CudaGemm.MAX_GRID_YZ, "gridDim.z " + l.batchCount());
            assertTrue(l.batchCount() == 1 || (l.rowFirst() == 0 && l.rowCount() == m), "a row slice shares its launch with no other entry: " + l);
            for (int b = l.batchFirst(); b < l.batchFirst() + l.batchCount(); b++) {
                assertEquals(seen[b], l.rowFirst(), "rows of entry " + b + " are covered in order, without gaps or overlaps");
                seen[b] += l.rowCount();
            }
            covered += (long) l.batchCount() * l.rowCount();
        }
        for (int b = 0; b < batch; b++) assertEquals(m, seen[b], "every row of entry " + b);
        assertEquals((long) m * batch, covered);
        return launches.size();
    }

    @Test
    void launchesCoverLongProductsAndLargeBatchesWithinTheGridLimits() {
        int rowsPerGrid = CudaGemm.MAX_GRID_YZ * CudaGemm.TILE;
        assertEquals(1, checkCover(12608, 1), "a ViT-S product is one launch");
        assertEquals(1, checkCover(197, 384), "attention's batched products are one launch");
        assertEquals(1, checkCover(rowsPerGrid, 1), "65535 row tiles still fit one grid");
        assertEquals(2, checkCover(rowsPerGrid + 1, 1), "one row more needs a second launch");
        assertEquals(3 * 3, checkCover(2 * rowsPerGrid + 5, 3), "long products of a batch: each entry in row slices");
        assertEquals(2, checkCover(7, 65536), "65536 entries: two batch slices");
        assertEquals(4, checkCover(1, 3 * 65535 + 1));
    }

    @Test
    void aSlicedPlanAddressesTheSameElements() {
        CudaGemm.GemmPlan p = new CudaGemm.GemmPlan();
        p.m = 1000; p.n = 30; p.k = 20; p.batch = 4;
        p.aOff = 7; p.aRs = 1; p.aCs = 1003; p.aBs = 40000;     // A stored transposed, offset
        p.bOff = 3; p.bRs = 30; p.bCs = 1; p.bBs = 0;           // B broadcast over the batch
        p.cOff = 11; p.cRs = 30; p.cCs = 1; p.cBs = 30000;      // C0
        for (CudaGemm.Launch l : List.of(new CudaGemm.Launch(2, 1, 640, 360), new CudaGemm.Launch(1, 3, 0, 1000))) {
            CudaGemm.GemmPlan s = p.slice(l);
            assertEquals(l.rowCount(), s.m);
            assertEquals(l.batchCount(), s.batch);
            for (int b = 0; b < s.batch; b++) {
                for (int i : new int[] {0, 1, s.m - 1}) {
                    int whole = l.batchFirst() + b, row = l.rowFirst() + i;
                    for (int kk : new int[] {0, 19}) {
                        assertEquals(p.aOff + whole * p.aBs + row * p.aRs + kk * p.aCs, s.aOff + b * s.aBs + i * s.aRs + kk * s.aCs, "A");
                        assertEquals(p.bOff + whole * p.bBs + kk * p.bRs, s.bOff + b * s.bBs + kk * s.bRs, "B");
                    }
                    assertEquals(p.cOff + whole * p.cBs + row * p.cRs + 5, s.cOff + b * s.cBs + i * s.cRs + 5 * s.cCs, "C0");
                }
            }
            assertEquals(p.n, s.n);
            assertEquals(p.k, s.k);
        }
    }
}
