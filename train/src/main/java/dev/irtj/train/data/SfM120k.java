package dev.irtj.train.data;

import dev.irtj.tensor.pickle.AllowList;
import dev.irtj.tensor.pickle.NumpyArray;
import dev.irtj.tensor.pickle.PickleException;
import dev.irtj.tensor.pickle.Unpickler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The retrieval-SfM-120k layout as cirtorch reads it: {@code DIR/retrieval-SfM-120k.pkl}, a
 * pickled dict with {@code train} and {@code val} dicts, each holding {@code cids} (image names),
 * {@code cluster} (the 3D model of each image), {@code qidxs} and {@code pidxs} (query–positive
 * pairs, indices into {@code cids}); the images are {@code DIR/ims/} under cirtorch's
 * {@code cid2filename}: {@code ims/cid[-2:]/cid[-4:-2]/cid[-6:-4]/cid}, without an extension
 * (decoders look at the content). Read through the restricted {@link Unpickler} (numpy arrays
 * accepted where lists are), so nothing in the file can run.
 *
 * @param images    every image of the split, labelled by its cluster
 * @param queries   query image indices into {@code images}
 * @param positives the positive of each query, same positions
 */
public record SfM120k(Dataset images, int[] queries, int[] positives) {
    public static final String PICKLE = "retrieval-SfM-120k.pkl";
    /** Largest pickle read (the real one is about 20 MB). */
    public static final long MAX_BYTES = 1L << 30;

    public enum Split { TRAIN, VAL }

    public SfM120k {
        if (queries.length != positives.length) throw new IllegalArgumentException(queries.length + " queries but " + positives.length + " positives");
    }

    /** Image {@code cid} under {@code ims} as cirtorch's cid2filename places it. */
    public static Path imagePath(Path ims, String cid) {
        if (cid.length() < 6) throw new IllegalArgumentException("cid '" + cid + "' is shorter than the 6 characters cid2filename splits into folders");
        int n = cid.length();
        return ims.resolve(cid.substring(n - 2)).resolve(cid.substring(n - 4, n - 2)).resolve(cid.substring(n - 6, n - 4)).resolve(cid);
    }

    public static SfM120k read(Path dir, Split split) throws IOException {
        Path file = dir.resolve(PICKLE);
        if (!Files.isRegularFile(file)) {
            throw new DatasetFormatException(file, "not found: " + dir + " is not a retrieval-SfM-120k folder (expected DIR/" + PICKLE + " and DIR/ims/)");
        }
        String source = file.toString();
        long size = Files.size(file);
        if (size > MAX_BYTES) throw new IOException(source + ": " + size + " bytes is larger than an SfM-120k pickle may be (" + MAX_BYTES + ")");
        Object root = Unpickler.load(Files.readAllBytes(file), source, AllowList.numpy(), null);
        String key = split.name().toLowerCase(java.util.Locale.ROOT);
        if (!(root instanceof Map<?, ?> top) || !(top.get(key) instanceof Map<?, ?> db)) {
            throw new PickleException(source, "holds " + Unpickler.kind(root) + " without a \"" + key + "\" dict of cids, cluster, qidxs and pidxs");
        }
        String where = "[\"" + key + "\"]";
        List<String> cids = strings(db.get("cids"), where + "[\"cids\"]", source);
        long[] cluster = longs(db.get("cluster"), where + "[\"cluster\"]", source);
        int[] qidxs = indices(longs(db.get("qidxs"), where + "[\"qidxs\"]", source), cids.size(), where + "[\"qidxs\"]", source);
        int[] pidxs = indices(longs(db.get("pidxs"), where + "[\"pidxs\"]", source), cids.size(), where + "[\"pidxs\"]", source);
        if (cluster.length != cids.size()) throw new PickleException(source, where + " has " + cids.size() + " cids but " + cluster.length + " cluster ids");
        if (qidxs.length != pidxs.length) throw new PickleException(source, where + " has " + qidxs.length + " qidxs but " + pidxs.length + " pidxs");
        Path ims = dir.resolve("ims");
        List<Dataset.Sample> samples = new ArrayList<>(cids.size());
        for (int i = 0; i < cids.size(); i++) {
            try {
                samples.add(new Dataset.Sample(ImageSource.file(imagePath(ims, cids.get(i))), cluster[i]));
            } catch (IllegalArgumentException e) {
                throw new PickleException(source, where + "[\"cids\"][" + i + "]: " + e.getMessage());
            }
        }
        return new SfM120k(new Dataset("sfm120k-" + key, samples), qidxs, pidxs);
    }

    private static List<String> strings(Object v, String where, String source) throws PickleException {
        if (!(v instanceof List<?> l)) throw new PickleException(source, where + " is " + Unpickler.kind(v) + ", not a list of image names");
        List<String> out = new ArrayList<>(l.size());
        for (int i = 0; i < l.size(); i++) {
            if (!(l.get(i) instanceof String s)) throw new PickleException(source, where + "[" + i + "] is " + Unpickler.kind(l.get(i)) + ", not a str");
            out.add(s);
        }
        return out;
    }

    private static long[] longs(Object v, String where, String source) throws PickleException {
        if (v instanceof NumpyArray a) {
            if (a.shape().length != 1) throw new PickleException(source, where + " is a numpy array of shape " + java.util.Arrays.toString(a.shape()) + ", not a list");
            try {
                return a.toLongs();
            } catch (AllowList.BadArguments e) {
                throw new PickleException(source, where + " " + e.getMessage());
            }
        }
        if (!(v instanceof List<?> l)) throw new PickleException(source, where + " is " + Unpickler.kind(v) + ", not a list of ints");
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Long x)) throw new PickleException(source, where + "[" + i + "] is " + Unpickler.kind(l.get(i)) + ", not an int");
            out[i] = x;
        }
        return out;
    }

    private static int[] indices(long[] v, int images, String where, String source) throws PickleException {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i] < 0 || v[i] >= images) throw new PickleException(source, where + "[" + i + "] = " + v[i] + " is not an index of the " + images + " images");
            out[i] = (int) v[i];
        }
        return out;
    }
}
