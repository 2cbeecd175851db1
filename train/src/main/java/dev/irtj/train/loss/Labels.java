package dev.irtj.train.loss;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.Tensor;

/**
 * Class labels as a device tensor, so that pair masks come from {@link Tensor#eq} on the device:
 * F64, which every backend compares elementwise (I64 is only an index type) and which holds
 * every integer up to 2^53 exactly, so equal labels and equal doubles are the same thing.
 */
public final class Labels {
    /** The largest |label| that converts to a double and back without loss. */
    static final long EXACT = 1L << 53;

    private Labels() {
    }

    /** {@code labels} as an F64 [n] tensor on {@code device} (one upload of n values). */
    public static Tensor onDevice(long[] labels, Device device) {
        double[] d = new double[labels.length];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] > EXACT || labels[i] < -EXACT) {
                throw new IllegalArgumentException("label " + labels[i] + " (entry " + i + ") is beyond ±2^53, which the loss's label masks cannot compare exactly");
            }
            d[i] = labels[i];
        }
        return Tensor.of(DType.F64, d, labels.length).to(device);
    }
}
