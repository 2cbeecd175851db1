package dev.irtj.train.loss;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Golden;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.loss.ContrastiveLoss.Reduction;
import dev.irtj.train.loss.CrossBatchMemory.Enqueue;
import org.junit.jupiter.api.Test;

import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The enqueue order of the cross-batch memory, and the loss it gives against the references. */
class CrossBatchMemoryTest {

    private static Tensor rows(float... values) {
        return Tensor.of(values, values.length / 2, 2);
    }

    @Test
    void afterIsTheDefaultAndFillsOnlyAfterTheLoss() {
        CrossBatchMemory memory = new CrossBatchMemory(4, 2);
        assertEquals(Enqueue.AFTER, memory.order());
        assertFalse(memory.beforeLoss(rows(1, 0), new long[] {7}));
        assertEquals(0, memory.size());
        assertTrue(memory.afterLoss(rows(1, 0), new long[] {7}));
        assertArrayEquals(new long[] {7}, memory.labels());
    }

    @Test
    void beforeFillsBeforeTheLossSoTheBatchIsInItsOwnReferences() {
        CrossBatchMemory memory = new CrossBatchMemory(4, 2, Enqueue.BEFORE);
        memory.enqueue(rows(0, 1), new long[] {3});
        assertTrue(memory.beforeLoss(rows(1, 0, 0.6f, 0.8f), new long[] {7, 8}));
        assertFalse(memory.afterLoss(rows(1, 0, 0.6f, 0.8f), new long[] {7, 8}));
        assertArrayEquals(new long[] {3, 7, 8}, memory.labels());
        assertArrayEquals(new float[] {0, 1, 1, 0, 0.6f, 0.8f}, memory.contents(DType.F32).toFloatArray());
    }

    @Test
    void anOrderIsRequired() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CrossBatchMemory(4, 2, null));
        assertEquals("memory needs an enqueue order (before or after the loss)", e.getMessage());
    }

    /**
     * memory_before.safetensors through a real memory: its 6 past entries, then the batch
     * enqueued before the loss, give the file's memory (same rows, same order), so every
     * reduction must reproduce the reference's batch + memory loss and gradient (F32; every
     * similarity in this case is exact, so the same pairs are selected).
     */
    @Test
    void enqueueBeforeReproducesTheReferences() {
        SafeTensors.File f = ContrastiveConventionsTest.load("memory_before");
        assertEquals("before", f.meta("enqueue"));
        long[] labels = f.get("labels").toLongArray();
        Tensor fileMemory = f.get("memory");
        long[] fileLabels = f.get("memory_labels").toLongArray();
        int past = fileMemory.shape(0) - labels.length;
        for (Reduction reduction : Reduction.values()) {
            CrossBatchMemory memory = new CrossBatchMemory(fileMemory.shape(0), fileMemory.shape(1), Enqueue.BEFORE);
            long[] pastLabels = new long[past];
            System.arraycopy(fileLabels, 0, pastLabels, 0, past);
            memory.enqueue(fileMemory.narrow(0, 0, past).to(DType.F32), pastLabels);
            Var raw = Var.param(f.get("raw").to(DType.F32));
            Var embeddings = raw.l2Normalize();
            memory.beforeLoss(embeddings.data(), labels);
            assertArrayEquals(fileLabels, memory.labels());
            ContrastiveLoss loss = new ContrastiveLoss(Double.parseDouble(f.meta("beta")), reduction, Double.parseDouble(f.meta("memory_weight")));
            Var value = loss.apply(embeddings, labels, memory.contents(DType.F32), memory.labels());
            String r = reduction.name().toLowerCase(Locale.ROOT);
            Golden.assertClose("loss." + r + ".memory", f.get("loss." + r + ".memory"), value.data().reshape(1).to(DType.F64), 1e-5, 1e-6);
            value.backward();
            Golden.assertClose("grad_raw." + r + ".memory", f.get("grad_raw." + r + ".memory"), raw.grad().to(DType.F64), 1e-5, 1e-5);
        }
    }
}
