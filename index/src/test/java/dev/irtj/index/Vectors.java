package dev.irtj.index;

import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Random unit vectors and images carrying them, for the index tests. */
final class Vectors {
    private Vectors() {
    }

    static final LuceneIndex.Identity MODEL_A = new LuceneIndex.Identity("fp-a", "model A", "{\"kind\":\"a\"}", 16);

    static float[] unit(Rng rng, int d) {
        float[] v = new float[d];
        double sq = 0;
        for (int i = 0; i < d; i++) {
            v[i] = (float) rng.nextGaussian();
            sq += (double) v[i] * v[i];
        }
        float inv = (float) (1 / Math.sqrt(sq));
        for (int i = 0; i < d; i++) v[i] *= inv;
        return v;
    }

    static List<float[]> units(long seed, int n, int d) {
        Rng rng = new Rng(seed);
        List<float[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(unit(rng, d));
        return out;
    }

    /** Ids are zero-padded so that id order is index order. */
    static String id(int i) {
        return String.format("img/%06d.png", i);
    }

    static IndexedImage image(String id, float[] v) {
        return new IndexedImage(id, "/data/" + id, v, (long) (id.hashCode() & 7), 100 + id.length(), 1_700_000_000_000L, 20, 18,
                Map.of("source", "test"));
    }

    static List<IndexedImage> images(List<float[]> vectors) {
        List<IndexedImage> out = new ArrayList<>();
        for (int i = 0; i < vectors.size(); i++) out.add(image(id(i), vectors.get(i)));
        return out;
    }

    static Tensor matrix(List<float[]> vectors) {
        int d = vectors.get(0).length;
        float[] all = new float[vectors.size() * d];
        for (int i = 0; i < vectors.size(); i++) System.arraycopy(vectors.get(i), 0, all, i * d, d);
        return Tensor.of(all, vectors.size(), d);
    }
}
