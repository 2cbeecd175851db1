package dev.irtj.tensor;

/**
 * The owner of state that outlives a step: a model's parameters and their gradients, optimizer
 * moments, a cross-batch memory's ring, a momentum encoder's copy. A tensor handed to
 * {@link #adopt} is taken from every {@link MemoryScope} open on this thread, so no step scope
 * frees it whatever scope it was made in; it lives as any Java object does, until nothing refers
 * to it (device storage then returns through its {@code Cleaner}).
 *
 * <pre>{@code
 * try (MemoryScope step = MemoryScope.open()) {
 *     Tensor m = LongLived.adopt(Tensor.zeros(device, dtype, shape)); // an optimizer moment
 *     ...                                                             // temporaries of the step
 * }                                                                   // m is still usable here
 * }</pre>
 *
 * Adopting takes only the tensor handed over: temporaries made while computing it stay in their
 * scope and are freed with it. A view adopts the whole storage it looks into.
 */
public final class LongLived {
    private LongLived() {
    }

    /** Takes {@code t}'s storage from every scope open on this thread and returns {@code t}. */
    public static Tensor adopt(Tensor t) {
        if (t.storage().isReleased()) {
            throw new IllegalStateException("cannot make " + t + " long-lived: its MemoryScope has already closed and freed it");
        }
        MemoryScope.disown(t.storage());
        return t;
    }
}
