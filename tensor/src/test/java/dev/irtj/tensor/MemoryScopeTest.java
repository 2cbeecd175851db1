package dev.irtj.tensor;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scoped lifetimes: temporaries are released when their scope closes, kept tensors move to the
 * enclosing scope, released storage returns to the pool and fails loudly when touched. The pool
 * is process-wide, so assertions on it compare counters before and after, never absolute values.
 */
class MemoryScopeTest {

    @Test
    void storageAllocatedInScopeIsReleasedAtClose() {
        Tensor t, view;
        try (MemoryScope scope = MemoryScope.open()) {
            t = Tensor.zeros(DType.F32, 4, 5);
            view = t.mT();
            Tensor u = t.add(1).exp();
            assertFalse(u.storage().isReleased());
            assertTrue(scope.ownedCount() >= 3, "zeros, add and exp each own a storage; got " + scope.ownedCount());
        }
        assertTrue(t.storage().isReleased());
        assertSame(t.storage(), view.storage(), "a view shares its base's storage, and its fate");
        IllegalStateException e = assertThrows(IllegalStateException.class, t::toDoubleArray);
        assertTrue(e.getMessage().contains("MemoryScope") && e.getMessage().contains("keep()"), e.getMessage());
        assertTrue(e.getMessage().contains("20") && e.getMessage().contains("F32"), "names size and dtype: " + e.getMessage());
        assertThrows(IllegalStateException.class, () -> view.get(0, 0));
        assertThrows(IllegalStateException.class, () -> t.add(t));
        assertThrows(IllegalStateException.class, () -> t.fill(1));
        assertThrows(IllegalStateException.class, () -> ((HostStorage) t.storage()).f32());
    }

    @Test
    void keepMovesStorageToTheParentScope() {
        Tensor kept, temp;
        try (MemoryScope outer = MemoryScope.open()) {
            try (MemoryScope inner = MemoryScope.open()) {
                kept = Tensor.ones(DType.F64, 3);
                temp = Tensor.ones(DType.F64, 3);
                assertSame(kept, inner.keep(kept));
                assertEquals(1, inner.ownedCount());
            }
            assertFalse(kept.storage().isReleased(), "kept tensor must survive its scope");
            assertTrue(temp.storage().isReleased());
            assertArrayEquals(new double[] {1, 1, 1}, kept.toDoubleArray());
            assertTrue(outer.ownedCount() >= 1);
        }
        assertTrue(kept.storage().isReleased(), "the parent releases kept storage when it closes");
    }

    @Test
    void keepAtTopLevelMakesStorageUnscoped() {
        Tensor kept;
        try (MemoryScope scope = MemoryScope.open()) {
            kept = Tensor.ones(DType.F32, 2);
            Tensor other = Tensor.ones(DType.F32, 2);
            scope.keep(kept, other);
            List<Tensor> list = new ArrayList<>(List.of(Tensor.zeros(DType.F32, 1), Tensor.zeros(DType.F32, 2)));
            assertSame(list, scope.keepAll(list));
            assertEquals(0, scope.ownedCount());
        }
        assertFalse(kept.storage().isReleased());
        assertEquals(2, kept.numel());
    }

    @Test
    void keepThroughSeveralLevels() {
        Tensor t;
        try (MemoryScope a = MemoryScope.open()) {
            try (MemoryScope b = MemoryScope.open()) {
                try (MemoryScope c = MemoryScope.open()) {
                    t = c.keep(Tensor.zeros(DType.F64, 2));
                }
                assertFalse(t.storage().isReleased());
                b.keep(t);
            }
            assertFalse(t.storage().isReleased());
        }
        assertTrue(t.storage().isReleased(), "released by the scope it was last kept into");
    }

    @Test
    void keepingStorageOwnedByAnOuterScopeChangesNothing() {
        try (MemoryScope outer = MemoryScope.open()) {
            Tensor t = Tensor.zeros(DType.F64, 2);
            try (MemoryScope inner = MemoryScope.open()) {
                inner.keep(t); // not inner's: stays with outer
            }
            assertFalse(t.storage().isReleased());
            assertEquals(1, outer.ownedCount());
        }
    }

    @Test
    void nestedScopesReleaseOnlyTheirOwn() {
        try (MemoryScope outer = MemoryScope.open()) {
            Tensor a = Tensor.zeros(DType.F32, 3);
            Tensor b;
            try (MemoryScope inner = MemoryScope.open()) {
                b = a.add(1);
            }
            assertFalse(a.storage().isReleased());
            assertTrue(b.storage().isReleased());
            Tensor c = a.add(2);
            assertArrayEquals(new float[] {2, 2, 2}, c.toFloatArray());
        }
    }

    @Test
    void scopesCloseInnermostFirst() {
        MemoryScope outer = MemoryScope.open();
        MemoryScope inner = MemoryScope.open();
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
            assertTrue(e.getMessage().contains("innermost"), e.getMessage());
        } finally {
            inner.close();
            outer.close();
        }
        outer.close(); // idempotent
    }

    @Test
    void adoptedTensorsOutliveEveryScope() {
        Tensor param, temp, made, kept;
        try (MemoryScope step = MemoryScope.open()) {
            temp = Tensor.zeros(DType.F32, 2);
            param = LongLived.adopt(Tensor.zeros(DType.F32, 2));
            assertEquals(1, step.ownedCount(), "temp only");
            try (MemoryScope inner = MemoryScope.open()) {
                // Made two scopes deep, and its inputs temporaries of the inner scope.
                made = LongLived.adopt(Tensor.ones(DType.F32, 2).add(1));
                kept = inner.keep(Tensor.ones(DType.F32, 2));
            }
            assertFalse(kept.storage().isReleased());
            Tensor again = Tensor.zeros(DType.F32, 2);
            assertEquals(3, step.ownedCount(), "temp, kept and again");
        }
        assertTrue(temp.storage().isReleased());
        assertTrue(kept.storage().isReleased(), "keep() hands storage to the step scope, which frees it");
        assertFalse(param.storage().isReleased(), "an adopted tensor belongs to no scope");
        assertArrayEquals(new float[] {2, 2}, made.toFloatArray());
        try (MemoryScope step = MemoryScope.open()) {
            assertSame(param, LongLived.adopt(param), "adopting twice is harmless");
            assertEquals(0, step.ownedCount());
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LongLived.adopt(temp));
        assertTrue(e.getMessage().contains("already closed"), e.getMessage());
    }

    @Test
    void wrappedArraysAreNotScoped() {
        Tensor t;
        try (MemoryScope s = MemoryScope.open()) {
            t = Tensor.of(new double[] {1, 2}, 2);
        }
        assertFalse(t.storage().isReleased());
        assertArrayEquals(new double[] {1, 2}, t.toDoubleArray());
    }

    // ---- the buffer pool ------------------------------------------------------------------------

    @Test
    void releasedBuffersComeBackFromThePool() {
        // An odd length that no other test uses, so this test's buffers are the only ones of it.
        int n = 7919;
        long hits0 = BufferPool.hits();
        for (int i = 0; i < 5; i++) {
            try (MemoryScope s = MemoryScope.open()) {
                Tensor.empty(DType.F32, n).fill(i);
            }
        }
        assertTrue(BufferPool.hits() - hits0 >= 4, "after the first step every allocation should reuse the released buffer; hits "
                + (BufferPool.hits() - hits0));
        long before = BufferPool.pooledBytes();
        try (MemoryScope s = MemoryScope.open()) {
            Tensor.empty(DType.F32, n);
            assertEquals(before - 4L * n, BufferPool.pooledBytes(), "a reused buffer leaves the pool");
        }
        assertEquals(before, BufferPool.pooledBytes(), "and comes back on release");
    }

    @Test
    void zeroFilledAllocationsFromThePoolAreZero() {
        int n = 7907;
        for (DType dt : DType.values()) {
            try (MemoryScope s = MemoryScope.open()) {
                Tensor.full(dt == DType.I64 ? -5 : Double.NaN, dt, n); // dirty buffer back to the pool at close
            }
            long hits0 = BufferPool.hits();
            try (MemoryScope s = MemoryScope.open()) {
                Tensor z = Tensor.zeros(dt, n);
                assertEquals(hits0 + 1, BufferPool.hits(), dt + ": zeros should reuse the dirty buffer");
                for (double v : z.toDoubleArray()) assertEquals(0.0, v, dt + ": recycled buffer not zeroed");
            }
        }
    }

    @Test
    void poolKeysOnDtypeAndLength() {
        int n = 7901;
        try (MemoryScope s = MemoryScope.open()) {
            Tensor.zeros(DType.F64, n);
        }
        long misses0 = BufferPool.misses();
        try (MemoryScope s = MemoryScope.open()) {
            Tensor.zeros(DType.F32, n); // same length, other dtype: no reuse
            Tensor.zeros(DType.F64, n + 1); // same dtype, other length: no reuse
        }
        assertEquals(misses0 + 2, BufferPool.misses());
    }

    /**
     * Arrays handed to the caller (toFloatArray, toLongArray, toDoubleArray) must not be pool
     * buffers: a later allocation would overwrite the caller's data.
     */
    @Test
    void hostArraysDoNotAliasPooledBuffers() {
        int n = 7883;
        Tensor src = Tensor.of(new float[n], n).add(3); // unscoped, all 3
        Tensor srcL = Tensor.ofLongs(new long[n], n);
        float[] f;
        long[] l;
        double[] d;
        try (MemoryScope s = MemoryScope.open()) {
            f = src.toFloatArray();
            l = srcL.toLongArray();
            d = src.to(DType.F64).toDoubleArray();
        }
        for (int i = 0; i < 3; i++) {
            try (MemoryScope s = MemoryScope.open()) {
                Tensor.empty(DType.F32, n).fill(-1);
                Tensor.empty(DType.I64, n).fill(-1);
                Tensor.empty(DType.F64, n).fill(-1);
            }
        }
        for (int i = 0; i < n; i++) {
            assertEquals(3f, f[i], "float array changed by a later allocation");
            assertEquals(0L, l[i], "long array changed by a later allocation");
            assertEquals(3.0, d[i], "double array changed by a later allocation");
        }
    }

    @Test
    void releaseIsIdempotent() {
        long pooled;
        Tensor t = Tensor.zeros(DType.F32, 7877);
        t.storage().release();
        pooled = BufferPool.pooledBytes();
        t.storage().release();
        assertEquals(pooled, BufferPool.pooledBytes(), "a second release must not pool the array twice");
        assertTrue(t.toString().contains("released"));
    }

    @Test
    void scopesAreThreadLocal() throws Exception {
        try (MemoryScope s = MemoryScope.open()) {
            Tensor[] fromOtherThread = new Tensor[1];
            Thread th = new Thread(() -> fromOtherThread[0] = Tensor.zeros(DType.F32, 2));
            th.start();
            th.join();
            assertEquals(0, s.ownedCount(), "another thread's allocation is not this scope's");
            assertFalse(fromOtherThread[0].storage().isReleased());
        }
    }
}
