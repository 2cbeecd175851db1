package dev.irtj.tensor;

import org.junit.jupiter.api.Test;

import static dev.irtj.tensor.TestTensors.assertShape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Factories, dtype conversion, host access and printing. */
class TensorCreationTest {

    @Test
    void zerosOnesFull() {
        Tensor z = Tensor.zeros(DType.F32, 2, 3);
        assertEquals(DType.F32, z.dtype());
        assertEquals(Device.CPU, z.device());
        assertShape(new int[] {2, 3}, z);
        assertTrue(z.isContiguous());
        assertArrayEquals(new float[6], z.toFloatArray());
        assertArrayEquals(new double[] {1, 1, 1, 1}, Tensor.ones(DType.F64, 4).toDoubleArray());
        assertArrayEquals(new double[] {2.5, 2.5, 2.5}, Tensor.full(2.5, DType.F64, 3, 1).toDoubleArray());
        assertArrayEquals(new float[] {0.1f, 0.1f}, Tensor.full(0.1, DType.F32, 2).toFloatArray());
        assertEquals(0, Tensor.zeros(DType.F64, 3, 0).numel());
        assertArrayEquals(new long[] {7, 7}, Tensor.full(7, DType.I64, 2).toLongArray());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.F64, 2, -1));
    }

    @Test
    void scalarIsZeroDimensional() {
        Tensor s = Tensor.scalar(3.25, DType.F64);
        assertEquals(0, s.rank());
        assertEquals(1, s.numel());
        assertEquals(3.25, s.item());
        assertEquals(3.25, s.get());
        assertEquals(3.25f, (float) Tensor.scalar(3.25, DType.F32).item());
    }

    @Test
    void arange() {
        assertArrayEquals(new double[] {0, 1, 2, 3, 4}, Tensor.arange(5, DType.F64).toDoubleArray());
        assertArrayEquals(new double[] {2, 2.5, 3, 3.5}, Tensor.arange(2, 4, 0.5, DType.F64).toDoubleArray());
        assertArrayEquals(new double[] {5, 3, 1}, Tensor.arange(5, 0, -2, DType.F64).toDoubleArray());
        assertArrayEquals(new long[] {0, 1, 2}, Tensor.arange(3, DType.I64).toLongArray());
        assertEquals(0, Tensor.arange(0, DType.F32).numel());
        assertEquals(0, Tensor.arange(3, 1, 1, DType.F32).numel());
        // torch.arange(0, 0.3, 0.1) has 3 elements (0.3 / 0.1 rounds to 2.9999999999999996).
        assertEquals(3, Tensor.arange(0, 0.3, 0.1, DType.F64).numel());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.arange(0, 1, 0, DType.F64));
        assertTrue(e.getMessage().contains("step"), e.getMessage());
    }

    @Test
    void eye() {
        assertArrayEquals(new double[] {1, 0, 0, 0, 1, 0, 0, 0, 1}, Tensor.eye(3, DType.F64).toDoubleArray());
        assertShape(new int[] {0, 0}, Tensor.eye(0, DType.F32));
        assertEquals(DType.F32, Tensor.eye(2, DType.F32).dtype());
    }

    @Test
    void ofCopiesItsInput() {
        double[] d = {1, 2, 3, 4, 5, 6};
        Tensor t = Tensor.of(d, 2, 3);
        assertEquals(DType.F64, t.dtype());
        d[0] = 99;
        assertEquals(1, t.get(0, 0), "Tensor.of must copy the array");
        float[] f = {1.5f, 2.5f};
        Tensor tf = Tensor.of(f, 2);
        assertEquals(DType.F32, tf.dtype());
        f[1] = 0;
        assertEquals(2.5, tf.get(1));
        long[] l = {3, -4};
        Tensor tl = Tensor.ofLongs(l, 2, 1);
        assertEquals(DType.I64, tl.dtype());
        l[0] = 0;
        assertArrayEquals(new long[] {3, -4}, tl.toLongArray());
        assertArrayEquals(new long[] {1, 2}, Tensor.of(DType.I64, new double[] {1.9, 2.2}, 2).toLongArray());
        assertArrayEquals(new float[] {(float) 0.1}, Tensor.of(DType.F32, new double[] {0.1}, 1).toFloatArray());
    }

    @Test
    void ofRejectsWrongLength() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new double[5], 2, 3));
        assertTrue(e.getMessage().contains("5") && e.getMessage().contains("[2, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 6));
        assertThrows(IllegalArgumentException.class, () -> Tensor.ofLongs(new long[1], 2));
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(DType.F32, new double[1], 2));
    }

    /** Arrays handed out by toFloatArray/toLongArray/toDoubleArray are the caller's own. */
    @Test
    void hostArraysAreIndependentCopies() {
        Tensor t = Tensor.of(new float[] {1, 2, 3}, 3);
        float[] a = t.toFloatArray();
        a[0] = 42;
        assertEquals(1, t.get(0));
        Tensor l = Tensor.ofLongs(new long[] {1, 2}, 2);
        long[] la = l.toLongArray();
        la[0] = 42;
        assertEquals(1, l.get(0));
        double[] da = Tensor.of(new double[] {1, 2}, 2).toDoubleArray();
        assertEquals(2, da.length);
    }

    // ---- dtype conversion -----------------------------------------------------------------------

    @Test
    void f64ToF32RoundsToNearestAndBack() {
        double[] v = {0.1, 1.0 / 3, -2.75, 1e-40, 3.4e38, 1e39, Double.NaN, Double.NEGATIVE_INFINITY, -0.0};
        Tensor d = Tensor.of(v, v.length);
        Tensor f = d.to(DType.F32);
        assertEquals(DType.F32, f.dtype());
        float[] got = f.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            assertEquals(Float.floatToIntBits((float) v[i]), Float.floatToIntBits(got[i]), "element " + i);
        }
        Tensor back = f.to(DType.F64);
        assertEquals(DType.F64, back.dtype());
        double[] b = back.toDoubleArray();
        for (int i = 0; i < v.length; i++) {
            // float -> double is exact.
            assertEquals(Double.doubleToLongBits((float) v[i]), Double.doubleToLongBits(b[i]), "element " + i);
        }
    }

    @Test
    void conversionOfNonContiguousAndSameDtype() {
        Tensor d = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertSame(d, d.to(DType.F64));
        Tensor f = d.mT().to(DType.F32);
        assertTrue(f.isContiguous());
        assertShape(new int[] {3, 2}, f);
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, f.toFloatArray());
        assertArrayEquals(new long[] {1, 4, 2, 5, 3, 6}, f.to(DType.I64).toLongArray());
        assertArrayEquals(new double[] {3, -2}, Tensor.ofLongs(new long[] {3, -2}, 2).to(DType.F64).toDoubleArray());
        assertSame(d, d.to(Device.CPU));
    }

    @Test
    void mixedDtypesAreRejectedClearly() {
        Tensor d = Tensor.ones(DType.F64, 2);
        Tensor f = Tensor.ones(DType.F32, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.add(f));
        assertTrue(e.getMessage().contains("F64") && e.getMessage().contains("F32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> d.matmul(f));
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.ofLongs(new long[] {1}, 1).exp());
        assertTrue(e.getMessage().contains("I64"), e.getMessage());
    }

    // ---- printing -------------------------------------------------------------------------------

    @Test
    void toStringShowsDtypeShapeAndValues() {
        String s = Tensor.of(new double[] {1, 2.5, -3}, 3).toString();
        assertTrue(s.contains("F64"), s);
        assertTrue(s.contains("[3]"), s);
        assertTrue(s.contains("2.50000") && s.contains("-3.00000"), s);
        String big = Tensor.arange(20, DType.F32).reshape(4, 5).toString();
        assertTrue(big.contains("F32") && big.contains("[4, 5]"), big);
        assertTrue(big.contains("7.00000") && !big.contains("8.00000"), "first 8 values only: " + big);
        assertTrue(big.contains("20 values"), big);
        String l = Tensor.ofLongs(new long[] {5, -6}, 2).toString();
        assertTrue(l.contains("I64") && l.contains("5, -6"), l);
        String t = Tensor.arange(12, DType.F64).reshape(3, 4).mT().toString();
        assertTrue(t.contains("[4, 3]") && t.contains("0.00000, 4.00000, 8.00000, 1.00000"), t);
        assertFalse(Tensor.scalar(1, DType.F64).toString().isEmpty());
    }

    @Test
    void toStringUsesAPointRegardlessOfLocale() {
        java.util.Locale saved = java.util.Locale.getDefault();
        try {
            java.util.Locale.setDefault(java.util.Locale.GERMANY);
            String s = Tensor.of(new double[] {1.5}, 1).toString();
            assertTrue(s.contains("1.50000"), s);
        } finally {
            java.util.Locale.setDefault(saved);
        }
    }

    @Test
    void toStringOfReleasedTensor() {
        Tensor t;
        try (MemoryScope scope = MemoryScope.open()) {
            t = Tensor.zeros(DType.F32, 2);
        }
        String s = t.toString();
        assertTrue(s.contains("released") && s.contains("F32") && s.contains("[2]"), s);
    }

    // ---- random factories -----------------------------------------------------------------------

    @Test
    void randomFactoriesHaveShapeAndDtype() {
        Tensor r = Tensor.randn(new Rng(1), DType.F32, 3, 4);
        assertEquals(DType.F32, r.dtype());
        assertShape(new int[] {3, 4}, r);
        Tensor u = Tensor.uniform(new Rng(1), -2, 3, DType.F64, 100);
        for (double v : u.toDoubleArray()) assertTrue(v >= -2 && v < 3, "uniform value " + v);
        Tensor tn = Tensor.truncatedNormal(new Rng(1), 0, 1, -0.5, 0.5, DType.F32, 200);
        for (double v : tn.toDoubleArray()) assertTrue(v >= -0.5 && v <= 0.5, "truncated value " + v);
    }
}
