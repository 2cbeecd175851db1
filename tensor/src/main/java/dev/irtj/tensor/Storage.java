package dev.irtj.tensor;

/**
 * A flat buffer of elements of one dtype on one device. Tensors are strided views over it.
 *
 * <p>Storage may be released explicitly (by a {@link MemoryScope}); a released storage returns
 * its memory to its backend's pool and any later use fails loudly instead of reading recycled
 * data.
 */
public abstract class Storage {
    private final DType dtype;
    private final int size;
    private boolean released;

    protected Storage(DType dtype, int size) {
        this.dtype = dtype;
        this.size = size;
    }

    public final DType dtype() {
        return dtype;
    }

    /** Number of elements. */
    public final int size() {
        return size;
    }

    public abstract Device device();

    public final boolean isReleased() {
        return released;
    }

    /** Returns the memory to the pool it came from. Idempotent. */
    public final void release() {
        if (!released) {
            released = true;
            onRelease();
        }
    }

    protected abstract void onRelease();

    protected final void checkLive() {
        if (released) {
            throw new IllegalStateException("storage of " + size + " " + dtype
                    + " elements was used after its MemoryScope closed; keep() it to use it outside the scope");
        }
    }
}
