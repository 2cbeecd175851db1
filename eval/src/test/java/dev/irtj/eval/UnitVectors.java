package dev.irtj.eval;

import dev.irtj.tensor.Tensor;

/** Test descriptors whose cosine similarities are easy to read: unit vectors in the plane. */
final class UnitVectors {
    private UnitVectors() {
    }

    /** One unit vector per angle (degrees), as rows of an [n, 2] F32 tensor. */
    static Tensor atAngles(double... deg) {
        float[] v = new float[deg.length * 2];
        for (int i = 0; i < deg.length; i++) {
            v[2 * i] = (float) Math.cos(Math.toRadians(deg[i]));
            v[2 * i + 1] = (float) Math.sin(Math.toRadians(deg[i]));
        }
        return Tensor.of(v, deg.length, 2);
    }
}
