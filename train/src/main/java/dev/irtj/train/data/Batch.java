package dev.irtj.train.data;

import dev.irtj.tensor.Tensor;

/**
 * One batch from a {@link Loader}: {@code pixels} is {@code B × channels × size × size} floats
 * (NCHW, row-major, normalized), {@code labels[i]} and {@code indices[i]} are the label and the
 * dataset index of item {@code i} (in training, the index of the image actually loaded, which
 * differs from the sampler's only where an unreadable image was replaced), {@code number} is
 * the batch's position in the loader's sequence (the first one is the loader's
 * {@code firstBatchNumber}). The arrays are the batch's own; nothing else writes to them.
 */
public record Batch(float[] pixels, long[] labels, int[] indices, int channels, int size, long number) {
    public Batch {
        if (labels.length != indices.length) throw new IllegalArgumentException("labels and indices differ in length");
        if ((long) labels.length * channels * size * size != pixels.length) {
            throw new IllegalArgumentException(pixels.length + " floats are not " + labels.length + " x " + channels
                    + " x " + size + " x " + size);
        }
    }

    /** B, the number of items. */
    public int batchSize() {
        return labels.length;
    }

    /** The pixels as an F32 tensor {@code [B, C, S, S]} (a copy). */
    public Tensor toTensor() {
        return Tensor.of(pixels, labels.length, channels, size, size);
    }

    /** The labels as an I64 tensor {@code [B]} (a copy). */
    public Tensor labelsTensor() {
        return Tensor.ofLongs(labels, labels.length);
    }

    /** Item {@code i}'s {@code C·S·S} floats (a copy). */
    public float[] item(int i) {
        int len = channels * size * size;
        return java.util.Arrays.copyOfRange(pixels, i * len, (i + 1) * len);
    }
}
