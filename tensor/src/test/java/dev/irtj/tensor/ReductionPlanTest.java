package dev.irtj.tensor;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reduction split (kept dims first, reduced dims last; rows × len; the output shape) is
 * resolved once in {@link ReductionPlan}. On odd shapes and every kind of dims list (all, each
 * one, negative, unsorted pairs, with and without keepdim) it equals the split the SIMD and CUDA
 * backends each computed before, written here from its definition.
 */
class ReductionPlanTest {

    private static final int[][] SHAPES = {{7}, {3, 5}, {2, 3, 5}, {4, 1, 6, 3}, {1, 9, 2}, {5, 0, 3}, {}};

    private static List<int[]> dimLists(int rank) {
        List<int[]> out = new ArrayList<>();
        out.add(IntStream.range(0, rank).toArray());
        out.add(new int[0]);
        for (int d = 0; d < rank; d++) {
            out.add(new int[] {d});
            out.add(new int[] {d - rank});
        }
        if (rank >= 3) {
            out.add(new int[] {-1, 0});
            out.add(new int[] {2, 0});
            out.add(new int[] {0, 1});
        }
        return out;
    }

    @Test
    void thePlanIsTheSplitTheBackendsComputed() {
        for (int[] shape : SHAPES) {
            Tensor x = Tensor.zeros(DType.F32, shape);
            int rank = shape.length;
            for (int[] given : dimLists(rank)) {
                for (boolean keepdim : new boolean[] {false, true}) {
                    ReductionPlan p = ReductionPlan.resolve(ReduceOp.SUM, x, given, keepdim);
                    String what = Arrays.toString(shape) + " over " + Arrays.toString(given) + (keepdim ? " keepdim" : "");
                    int[] dims = IntStream.of(given).map(d -> d < 0 ? d + rank : d).sorted().toArray();
                    int[] kept = IntStream.range(0, rank).filter(d -> Arrays.binarySearch(dims, d) < 0).toArray();
                    assertArrayEquals(dims, p.dims(), what);
                    assertArrayEquals(IntStream.concat(IntStream.of(kept), IntStream.of(dims)).toArray(), p.perm(), what);
                    assertEquals(kept.length, p.keptRank(), what);
                    assertEquals(IntStream.of(dims).map(d -> shape[d]).reduce(1, (a, b) -> a * b), p.len(), what);
                    assertEquals(IntStream.of(kept).map(d -> shape[d]).reduce(1, (a, b) -> a * b), p.rows(), what);
                    int[] out = keepdim ? IntStream.range(0, rank).map(d -> Arrays.binarySearch(dims, d) >= 0 ? 1 : shape[d]).toArray()
                            : IntStream.of(kept).map(d -> shape[d]).toArray();
                    assertArrayEquals(out, p.outShape(), what);
                    boolean prefix = dims.length > 0 && x.isContiguous() && IntStream.range(0, dims.length).allMatch(i -> dims[i] == i);
                    assertEquals(prefix, p.sumsDownColumns(), what);
                    if (p.len() > 0) {
                        assertFalse(ReductionPlan.resolve(ReduceOp.MAX, x, given, keepdim).sumsDownColumns(), "MAX never sums down columns: " + what);
                    }
                    if (given.length == 1 && p.len() > 0) {
                        ReductionPlan arg = ReductionPlan.along(ReduceOp.MAX, x, given[0], keepdim);
                        assertArrayEquals(p.perm(), arg.perm(), what);
                        assertArrayEquals(p.outShape(), arg.outShape(), what);
                        assertEquals(dims[0], arg.dim(), what);
                    }
                }
            }
        }
    }

    @Test
    void aTransposedInputDoesNotSumDownColumns() {
        Tensor x = Tensor.zeros(DType.F32, 3, 5).transpose(0, 1);
        assertFalse(ReductionPlan.resolve(ReduceOp.SUM, x, new int[] {0}, false).sumsDownColumns());
        assertTrue(ReductionPlan.resolve(ReduceOp.MEAN, x.contiguous(), new int[] {0}, false).sumsDownColumns());
    }

    @Test
    void badReductionsAreRefusedWithOneLine() {
        Tensor x = Tensor.zeros(DType.F32, 2, 3);
        assertMessage("repeated", () -> x.sum(new int[] {1, -1}, false));
        assertMessage("out of range", () -> x.sum(new int[] {2}, false));
        assertMessage("not defined for I64", () -> x.to(DType.I64).sum(new int[] {0}, false));
        assertMessage("MAX over an empty dimension of [2, 0]", () -> Tensor.zeros(DType.F32, 2, 0).max(new int[] {1}, false));
        assertMessage("argMIN over an empty dimension", () -> Tensor.zeros(DType.F32, 2, 0).argmin(1, false));
        assertMessage("arg-reduction of SUM", () -> ReductionPlan.along(ReduceOp.SUM, x, 0, false));
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part) && !e.getMessage().contains("\n"), "expected '" + part + "' in one line: " + e.getMessage());
    }
}
