package dev.irtj.train.loss;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
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
 *
 * <p>The ring [capacity, D] (F32) and its labels [capacity] ({@link Labels}' F64) live on the
 * model's device: a batch goes in by device copies into its slots, and the loss reads a view of
 * the filled part, so nothing as large as the memory crosses to or from the host per step. The
 * host keeps only the fill position and a copy of the labels, which it knows anyway (for
 * {@link #labels} and checkpoints).
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
    private final Device device;
    private final Tensor ring;
    private final Tensor ringLabels;
    private final long[] hostLabels;
    private final Enqueue order;
    private int size;
    private int next;

    /** A memory on the host that is filled after each loss ({@link Enqueue#AFTER}). */
    public CrossBatchMemory(int capacity, int dim) {
        this(capacity, dim, Enqueue.AFTER);
    }

    /** A memory on the host. */
    public CrossBatchMemory(int capacity, int dim, Enqueue order) {
        this(capacity, dim, order, Device.CPU);
    }

    /** A memory whose ring lives on {@code device} (the model's). */
    public CrossBatchMemory(int capacity, int dim, Enqueue order, Device device) {
        if (capacity < 0 || dim <= 0) throw new IllegalArgumentException("memory needs capacity >= 0 and dim > 0, got " + capacity + ", " + dim);
        if (order == null) throw new IllegalArgumentException("memory needs an enqueue order (before or after the loss)");
        if (device == null) throw new IllegalArgumentException("memory needs a device for its ring");
        if ((long) capacity * dim > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("memory of " + capacity + " entries of dim " + dim + " is more than one tensor can hold (2^31 - 1 elements)");
        }
        this.order = order;
        this.capacity = capacity;
        this.dim = dim;
        this.device = device;
        this.ring = LongLived.adopt(Tensor.zeros(device, DType.F32, capacity, dim));
        this.ringLabels = LongLived.adopt(Tensor.zeros(device, DType.F64, capacity));
        this.hostLabels = new long[capacity];
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

    public Device device() {
        return device;
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

    /**
     * Adds a batch [B, D] on the memory's device (values are copied, so the caller's tensor may
     * be released): row i goes to slot (next + i) mod capacity, so of a batch larger than the
     * memory only its last {@code capacity} rows stay, as a row-by-row FIFO would leave them.
     */
    public void enqueue(Tensor batch, long[] batchLabels) {
        if (batch.rank() != 2 || batch.shape(1) != dim || batch.shape(0) != batchLabels.length) {
            throw new IllegalArgumentException("memory of dim " + dim + " cannot take " + Arrays.toString(batch.shape()) + " with " + batchLabels.length + " labels");
        }
        if (!batch.device().equals(device)) {
            throw new IllegalArgumentException("memory on " + device + " cannot take a batch on " + batch.device() + "; build it on the model's device");
        }
        if (capacity == 0) return;
        int b = batch.shape(0);
        int kept = Math.min(b, capacity), first = b - kept;
        Tensor rows = batch.to(DType.F32), labels = Labels.onDevice(batchLabels, device);
        // The kept rows fill slots start .. start+kept-1 (mod capacity): at most two runs.
        int start = (int) ((next + (long) first) % capacity);
        int run = Math.min(kept, capacity - start);
        write(start, rows, labels, first, run);
        if (run < kept) write(0, rows, labels, first + run, kept - run);
        for (int i = first; i < b; i++) hostLabels[(int) ((next + (long) i) % capacity)] = batchLabels[i];
        next = (int) ((next + (long) b) % capacity);
        size = (int) Math.min((long) size + b, capacity);
    }

    private void write(int slot, Tensor rows, Tensor labels, int from, int count) {
        ring.narrow(0, slot, count).copyFrom(rows.narrow(0, from, count));
        ringLabels.narrow(0, slot, count).copyFrom(labels.narrow(0, from, count));
    }

    /**
     * The filled entries [size, D] in slot order (the loss does not depend on the order), on the
     * memory's device. For F32 this is a view of the ring itself, valid until the next
     * {@link #enqueue}; no copy of a memory as large as the training set is made per step.
     */
    public Tensor contents(DType dtype) {
        Tensor view = ring.narrow(0, 0, size);
        // Another dtype is a copy for this step, a temporary of its scope like any other.
        return dtype == DType.F32 ? view : view.to(dtype);
    }

    /** The labels of {@link #contents}, [size] on the memory's device ({@link Labels}' F64 form); a view. */
    public Tensor labelTensor() {
        return ringLabels.narrow(0, 0, size);
    }

    /** The labels of {@link #contents}, from the host's copy (no transfer). */
    public long[] labels() {
        return Arrays.copyOf(hostLabels, size);
    }

    /** Checkpoint form: descriptors (on the memory's device), labels and the ring position. */
    public Map<String, Tensor> state() {
        return Map.of(
                "memory.descriptors", ring,
                "memory.labels", Tensor.ofLongs(hostLabels.clone(), capacity),
                "memory.position", Tensor.ofLongs(new long[] {size, next}, 2));
    }

    public void loadState(Map<String, Tensor> state) {
        Tensor d = state.get("memory.descriptors"), l = state.get("memory.labels"), p = state.get("memory.position");
        if (d == null || l == null || p == null) throw new IllegalArgumentException("checkpoint has no cross-batch memory state");
        if (d.rank() != 2 || d.shape(0) != capacity || d.shape(1) != dim) {
            throw new IllegalArgumentException("checkpoint memory is " + Arrays.toString(d.shape()) + ", this run's is [" + capacity + ", " + dim + "]");
        }
        if (l.numel() != capacity) throw new IllegalArgumentException("checkpoint memory has " + l.numel() + " labels for " + capacity + " entries");
        long[] labels = l.toLongArray();
        long[] pos = p.toLongArray();
        if (pos.length != 2 || pos[0] < 0 || pos[0] > capacity || pos[1] < 0 || (capacity > 0 && pos[1] >= capacity) || (capacity == 0 && pos[1] != 0)) {
            throw new IllegalArgumentException("checkpoint memory position " + Arrays.toString(pos) + " does not fit a memory of " + capacity);
        }
        // Resuming uploads the ring once.
        ring.copyFrom(d.to(DType.F32).to(device));
        ringLabels.copyFrom(Labels.onDevice(labels, device));
        System.arraycopy(labels, 0, hostLabels, 0, capacity);
        size = (int) pos[0];
        next = (int) pos[1];
    }
}
