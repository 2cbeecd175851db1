package dev.irtj.tensor;

/**
 * Element types. F32 is the working type, F64 exists so that gradient checks and the reference
 * backend are exact, and I64 holds indices and labels (no arithmetic is defined on it).
 */
public enum DType {
    F32(4),
    F64(8),
    I64(8);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloating() {
        return this != I64;
    }
}
