package dev.irtj.tensor;

/** Storage in JVM heap arrays: {@code float[]}, {@code double[]} or {@code long[]} by dtype. */
public final class HostStorage extends Storage {
    private float[] f32;
    private double[] f64;
    private long[] i64;
    private final boolean pooled;

    private HostStorage(DType dtype, int size, Object array, boolean pooled) {
        super(dtype, size);
        switch (dtype) {
            case F32 -> f32 = (float[]) array;
            case F64 -> f64 = (double[]) array;
            case I64 -> i64 = (long[]) array;
        }
        this.pooled = pooled;
    }

    /**
     * Allocates {@code size} elements, zero-filled when {@code zero}, from the buffer pool, and
     * registers the storage with the current {@link MemoryScope}, if any.
     */
    public static HostStorage allocate(DType dtype, int size, boolean zero) {
        if (size < 0) throw new IllegalArgumentException("negative storage size " + size);
        Object array = BufferPool.acquire(dtype, size, zero);
        HostStorage s = new HostStorage(dtype, size, array, true);
        MemoryScope.register(s);
        return s;
    }

    /**
     * A new zeroed array outside the pool and every scope: for data handed to callers, who may
     * keep it as long as they like.
     */
    public static HostStorage unpooled(DType dtype, int size) {
        return switch (dtype) {
            case F32 -> wrap(new float[size]);
            case F64 -> wrap(new double[size]);
            case I64 -> wrap(new long[size]);
        };
    }

    /** Wraps an existing array without copying; such storage never returns to the pool. */
    public static HostStorage wrap(float[] data) {
        return new HostStorage(DType.F32, data.length, data, false);
    }

    public static HostStorage wrap(double[] data) {
        return new HostStorage(DType.F64, data.length, data, false);
    }

    public static HostStorage wrap(long[] data) {
        return new HostStorage(DType.I64, data.length, data, false);
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    public float[] f32() {
        checkLive();
        if (f32 == null) throw new IllegalStateException("storage is " + dtype() + ", not F32");
        return f32;
    }

    public double[] f64() {
        checkLive();
        if (f64 == null) throw new IllegalStateException("storage is " + dtype() + ", not F64");
        return f64;
    }

    public long[] i64() {
        checkLive();
        if (i64 == null) throw new IllegalStateException("storage is " + dtype() + ", not I64");
        return i64;
    }

    /** Element {@code i} widened to double, whatever the dtype. */
    public double get(int i) {
        checkLive();
        return switch (dtype()) {
            case F32 -> f32[i];
            case F64 -> f64[i];
            case I64 -> i64[i];
        };
    }

    /** Sets element {@code i}, rounding to the storage's dtype. */
    public void set(int i, double v) {
        checkLive();
        switch (dtype()) {
            case F32 -> f32[i] = (float) v;
            case F64 -> f64[i] = v;
            case I64 -> i64[i] = (long) v;
        }
    }

    @Override
    protected void onRelease() {
        if (pooled) {
            Object array = f32 != null ? f32 : f64 != null ? f64 : i64;
            BufferPool.recycle(dtype(), array);
        }
        f32 = null;
        f64 = null;
        i64 = null;
    }
}
