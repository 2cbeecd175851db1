package dev.irtj.tensor;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shape arithmetic and strided index walking. */
class ShapeTest {

    @Test
    void numelAndStrides() {
        assertEquals(1, Shape.numel(new int[0]));
        assertEquals(24, Shape.numel(new int[] {2, 3, 4}));
        assertEquals(0, Shape.numel(new int[] {2, 0, 4}));
        assertArrayEquals(new int[] {12, 4, 1}, Shape.contiguousStrides(new int[] {2, 3, 4}));
        assertArrayEquals(new int[] {4, 4, 1}, Shape.contiguousStrides(new int[] {2, 0, 4}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.numel(new int[] {65536, 65536}));
        assertTrue(e.getMessage().contains("[65536, 65536]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Shape.numel(new int[] {2, -3}));
        assertTrue(e.getMessage().contains("[2, -3]"), e.getMessage());
    }

    @Test
    void dimResolvesNegatives() {
        assertEquals(2, Shape.dim(-1, 3));
        assertEquals(0, Shape.dim(-3, 3));
        assertEquals(1, Shape.dim(1, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.dim(3, 3));
        assertTrue(e.getMessage().contains("3") && e.getMessage().contains("rank 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Shape.dim(-4, 3));
        assertThrows(IllegalArgumentException.class, () -> Shape.dim(0, 0));
    }

    @Test
    void broadcast() {
        assertArrayEquals(new int[] {2, 3, 4}, Shape.broadcast(new int[] {3, 1}, new int[] {2, 1, 4}));
        assertArrayEquals(new int[] {5}, Shape.broadcast(new int[] {}, new int[] {5}));
        assertArrayEquals(new int[] {}, Shape.broadcast(new int[] {}, new int[] {}));
        assertArrayEquals(new int[] {0, 3}, Shape.broadcast(new int[] {1, 3}, new int[] {0, 1}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.broadcast(new int[] {2, 3}, new int[] {3, 2}));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3, 2]"), e.getMessage());
    }

    @Test
    void broadcastDimsAreTheDimsToSumAGradientOver() {
        assertArrayEquals(new int[] {0, 2}, Shape.broadcastDims(new int[] {3, 1}, new int[] {2, 3, 4}));
        assertArrayEquals(new int[] {}, Shape.broadcastDims(new int[] {2, 3}, new int[] {2, 3}));
        assertArrayEquals(new int[] {0, 1}, Shape.broadcastDims(new int[] {}, new int[] {2, 3}));
        // A size-1 dim broadcast to size 1 is not a broadcast dim.
        assertArrayEquals(new int[] {1}, Shape.broadcastDims(new int[] {1, 1}, new int[] {1, 5}));
    }

    /** Summing a broadcast tensor over broadcastDims and reshaping gives the source shape back. */
    @Property(tries = 40)
    void broadcastDimsInvertExpand(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] target = TestTensors.randomShape(r, 1, 4, 4);
        int[] source = TestTensors.broadcastableTo(r, target);
        Tensor x = TestTensors.randn(seed, source);
        Tensor summed = x.expand(target).sum(Shape.broadcastDims(source, target), true);
        Tensor back = summed.reshape(source);
        // Each source element was repeated numel(target)/numel(source) times.
        double reps = (double) Shape.numel(target) / Shape.numel(source);
        TestTensors.assertClose("sum over broadcast dims", x.mul(reps), back, 1e-14, 0);
    }

    @Test
    void stridedOffsetsWalkRowMajor() {
        Storage s = HostStorage.wrap(new double[24]);
        Tensor t = Tensor.strided(s, new int[] {2, 3}, new int[] {1, 4}, 5);
        assertArrayEquals(new int[] {5, 9, 13, 6, 10, 14}, StridedIndex.offsets(t));
        assertArrayEquals(new int[] {7}, StridedIndex.offsets(Tensor.strided(s, new int[] {}, new int[] {}, 7)));
        assertArrayEquals(new int[0], StridedIndex.offsets(Tensor.strided(s, new int[] {3, 0}, new int[] {1, 1}, 0)));
        assertArrayEquals(new int[] {2, 2, 2}, StridedIndex.offsets(Tensor.strided(s, new int[] {3}, new int[] {0}, 2)));
    }

    @Property(tries = 40)
    void coordinatesAndLinearAreInverse(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] shape = TestTensors.randomShape(r, 0, 4, 5);
        int[] coord = new int[shape.length];
        for (int i = 0; i < Shape.numel(shape); i++) {
            StridedIndex.coordinates(i, shape, coord);
            for (int d = 0; d < shape.length; d++) assertTrue(coord[d] >= 0 && coord[d] < shape[d], Arrays.toString(coord));
            assertEquals(i, StridedIndex.linear(coord, shape));
        }
        // offsets() of a permuted view agree with coordinates · strides.
        int[] perm = new int[shape.length];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        r.shuffle(perm);
        Tensor t = Tensor.zeros(DType.F32, shape).permute(perm);
        int[] off = StridedIndex.offsets(t), ts = t.shape(), st = t.strides();
        int[] c = new int[ts.length];
        for (int i = 0; i < off.length; i++) {
            StridedIndex.coordinates(i, ts, c);
            int p = t.offset();
            for (int d = 0; d < c.length; d++) p += c[d] * st[d];
            assertEquals(p, off[i]);
        }
    }
}
