package dev.irtj.train.loss;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.HostStorage;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Tensor;

import java.util.Arrays;
import java.util.Map;

/**
 * The cross-batch memory (XBM): a FIFO ring of detached descriptors and their labels from past
 * iterations, used as extra references by the contrastive loss. Enqueued after each step's loss
 * (so a batch never meets its own copies); filling starts at an optional iteration. Its contents
 * are part of a checkpoint so a resumed run continues exactly.
 */
public final class CrossBatchMemory {
    private final int capacity;
    private final int dim;
    private final float[] descriptors;
    private final long[] labels;
    private final Tensor ring;
    private int size;
    private int next;

    public CrossBatchMemory(int capacity, int dim) {
        if (capacity < 0 || dim <= 0) throw new IllegalArgumentException("memory needs capacity >= 0 and dim > 0, got " + capacity + ", " + dim);
        this.capacity = capacity;
        this.dim = dim;
        this.descriptors = new float[Math.multiplyExact(capacity, dim)];
        this.labels = new long[capacity];
        this.ring = Tensor.contiguousView(HostStorage.wrap(descriptors), capacity, dim);
    }

    public int capacity() {
        return capacity;
    }

    public int size() {
        return size;
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
        if (dtype == DType.F32) return view;
        try (MemoryScope ignored = MemoryScope.unscoped()) {
            return view.to(dtype);
        }
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
