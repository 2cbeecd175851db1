package dev.irtj.train.loss;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.HostStorage;
import dev.irtj.tensor.LongLived;
import dev.irtj.tensor.Tensor;

import java.util.Arrays;
import java.util.Map;

/**
 * The cross-batch memory (XBM): a FIFO ring of detached descriptors and their labels, used as
 * extra references by the contrastive loss. By default a batch is enqueued after its step's loss
 * (so a batch never meets its own copies); {@link Enqueue#BEFORE} enqueues it first, as the XBM
 * reference code and jhgan00's IRT do. Filling starts at an optional iteration (the caller's
 * choice). Its contents are part of a checkpoint so a resumed run continues exactly.
 */
public final class CrossBatchMemory {
    /** When a step's batch joins the memory, relative to the loss that reads the memory. */
    public enum Enqueue {
        /**
         * Before the loss (research-xbm's trainer, jhgan00's engine): the memory term then sees
         * the batch's own detached copies. research-xbm's loss drops them by value (a same-label
         * pair counts only if s &lt; 1 − 1e-5); pytorch-metric-learning's keeps them as positive
         * pairs of loss relu(1 − s) ≈ 0; Eq. 1 adds their 1 − s ≈ 0 (their gradient on a unit
         * descriptor, −copy, is normal to the sphere, so almost nothing reaches the raw descriptor).
         */
        BEFORE,
        /** After the loss and the optimizer step (irtj's default): the memory holds only past batches. */
        AFTER
    }

    private final int capacity;
    private final int dim;
    private final float[] descriptors;
    private final long[] labels;
    private final Tensor ring;
    private final Enqueue order;
    private int size;
    private int next;

    /** A memory that is filled after each loss ({@link Enqueue#AFTER}). */
    public CrossBatchMemory(int capacity, int dim) {
        this(capacity, dim, Enqueue.AFTER);
    }

    public CrossBatchMemory(int capacity, int dim, Enqueue order) {
        if (capacity < 0 || dim <= 0) throw new IllegalArgumentException("memory needs capacity >= 0 and dim > 0, got " + capacity + ", " + dim);
        if (order == null) throw new IllegalArgumentException("memory needs an enqueue order (before or after the loss)");
        this.order = order;
        this.capacity = capacity;
        this.dim = dim;
        this.descriptors = new float[Math.multiplyExact(capacity, dim)];
        this.labels = new long[capacity];
        this.ring = LongLived.adopt(Tensor.contiguousView(HostStorage.wrap(descriptors), capacity, dim));
    }

    public int capacity() {
        return capacity;
    }

    public int size() {
        return size;
    }

    public Enqueue order() {
        return order;
    }

    /**
     * Call before computing the step's loss: enqueues the batch if this memory's order is
     * {@link Enqueue#BEFORE}, so that {@link #contents} then includes it. Returns whether it did.
     */
    public boolean beforeLoss(Tensor batch, long[] batchLabels) {
        if (order != Enqueue.BEFORE) return false;
        enqueue(batch, batchLabels);
        return true;
    }

    /**
     * Call after the step's loss (and update): enqueues the batch if this memory's order is
     * {@link Enqueue#AFTER}. Returns whether it did.
     */
    public boolean afterLoss(Tensor batch, long[] batchLabels) {
        if (order != Enqueue.AFTER) return false;
        enqueue(batch, batchLabels);
        return true;
    }

    /** Adds a batch [B, D] (values are copied, so the caller's tensor may be released). */
    public void enqueue(Tensor batch, long[] batchLabels) {
        if (batch.rank() != 2 || batch.shape(1) != dim || batch.shape(0) != batchLabels.length) {
            throw new IllegalArgumentException("memory of dim " + dim + " cannot take " + Arrays.toString(batch.shape()) + " with " + batchLabels.length + " labels");
        }
        if (capacity == 0) return;
        float[] rows = batch.contiguous().toFloatArray();
        for (int i = 0; i < batchLabels.length; i++) {
            System.arraycopy(rows, i * dim, descriptors, next * dim, dim);
            labels[next] = batchLabels[i];
            next = (next + 1) % capacity;
            size = Math.min(size + 1, capacity);
        }
    }

    /**
     * The filled entries [size, D] in slot order (the loss does not depend on the order). For
     * F32 this is a view of the ring itself, valid until the next {@link #enqueue}; no copy of
     * a memory as large as the training set is made per step.
     */
    public Tensor contents(DType dtype) {
        Tensor view = ring.narrow(0, 0, size);
        // Another dtype is a copy for this step, a temporary of its scope like any other.
        return dtype == DType.F32 ? view : view.to(dtype);
    }

    public long[] labels() {
        return Arrays.copyOf(labels, size);
    }

    /** Checkpoint form: descriptors, labels and the ring position. */
    public Map<String, Tensor> state() {
        return Map.of(
                "memory.descriptors", Tensor.of(descriptors, capacity, dim),
                "memory.labels", Tensor.ofLongs(labels, capacity),
                "memory.position", Tensor.ofLongs(new long[] {size, next}, 2));
    }

    public void loadState(Map<String, Tensor> state) {
        Tensor d = state.get("memory.descriptors"), l = state.get("memory.labels"), p = state.get("memory.position");
        if (d == null || l == null || p == null) throw new IllegalArgumentException("checkpoint has no cross-batch memory state");
        if (d.shape(0) != capacity || d.shape(1) != dim) {
            throw new IllegalArgumentException("checkpoint memory is " + Arrays.toString(d.shape()) + ", this run's is [" + capacity + ", " + dim + "]");
        }
        System.arraycopy(d.toFloatArray(), 0, descriptors, 0, descriptors.length);
        System.arraycopy(l.toLongArray(), 0, labels, 0, capacity);
        long[] pos = p.toLongArray();
        size = (int) pos[0];
        next = (int) pos[1];
    }
}
