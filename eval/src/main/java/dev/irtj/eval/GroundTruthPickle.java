package dev.irtj.eval;

import dev.irtj.tensor.pickle.AllowList;
import dev.irtj.tensor.pickle.NumpyArray;
import dev.irtj.tensor.pickle.PickleException;
import dev.irtj.tensor.pickle.PyTuple;
import dev.irtj.tensor.pickle.Unpickler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * revisitop's {@code gnd_roxford5k.pkl} / {@code gnd_rparis6k.pkl} read as they are: a pickled
 * dict of {@code imlist} and {@code qimlist} (lists of image names) and {@code gnd}, one dict
 * per query with {@code easy}, {@code hard} and {@code junk} (numpy int arrays, 0-based database
 * indices) and {@code bbx} (the query's box x1, y1, x2, y2). Lists of Python ints or floats are
 * accepted where numpy arrays are expected. The pickle goes through the restricted
 * {@link Unpickler} with the numpy allow-list, so nothing in the file can run.
 */
public final class GroundTruthPickle {
    /** Largest file read (the real ones are about 100 KB). */
    public static final long MAX_BYTES = 64L << 20;

    private GroundTruthPickle() {
    }

    /** Whether {@code file} starts as a binary pickle does (PROTO opcode). */
    public static boolean isPickle(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            int b = in.read();
            return b == 0x80;
        }
    }

    public static GroundTruthFile read(Path file) throws IOException {
        String source = file.toString();
        long size = Files.size(file);
        if (size > MAX_BYTES) throw new IOException(source + ": " + size + " bytes is larger than a ground-truth pickle may be (" + MAX_BYTES + ")");
        Object root = Unpickler.load(Files.readAllBytes(file), source, AllowList.numpy(), null);
        if (!(root instanceof Map<?, ?> cfg)) throw new PickleException(source, "holds " + Unpickler.kind(root) + ", not a dict with imlist, qimlist and gnd");
        if (!(cfg.get("gnd") instanceof List<?> gndList)) {
            throw new PickleException(source, "has no \"gnd\" list of per-query ground truth (keys: " + keys(cfg) + ")");
        }
        List<GroundTruth> gnd = new ArrayList<>();
        List<double[]> boxes = new ArrayList<>();
        for (int q = 0; q < gndList.size(); q++) {
            if (!(gndList.get(q) instanceof Map<?, ?> g)) throw new PickleException(source, "gnd[" + q + "] is " + Unpickler.kind(gndList.get(q)) + ", not a dict");
            gnd.add(new GroundTruth(ints(g, "easy", q, source), ints(g, "hard", q, source), ints(g, "junk", q, source)));
            boxes.add(box(g, q, source));
        }
        String dataset = cfg.get("dataset") instanceof String s ? s : null;
        try {
            return new GroundTruthFile(dataset, names(cfg, "imlist", source), names(cfg, "qimlist", source), gnd, boxes);
        } catch (IllegalArgumentException e) {
            throw new PickleException(source, e.getMessage());
        }
    }

    private static String keys(Map<?, ?> m) {
        List<String> out = new ArrayList<>();
        for (Object k : m.keySet()) out.add(k instanceof String s ? s : Unpickler.kind(k));
        return String.join(", ", out);
    }

    private static int[] ints(Map<?, ?> g, String key, int q, String source) throws PickleException {
        Object v = g.get(key);
        if (v == null) return null;
        String where = "gnd[" + q + "]." + key;
        long[] values;
        if (v instanceof NumpyArray a) {
            if (a.shape().length > 1) throw new PickleException(source, where + " is a numpy array of shape " + java.util.Arrays.toString(a.shape()) + ", not a list of indices");
            try {
                values = a.toLongs();
            } catch (AllowList.BadArguments e) {
                throw new PickleException(source, where + " " + e.getMessage());
            }
        } else if (v instanceof List<?> l) {
            values = new long[l.size()];
            for (int i = 0; i < values.length; i++) {
                if (!(l.get(i) instanceof Long x)) throw new PickleException(source, where + "[" + i + "] is " + Unpickler.kind(l.get(i)) + ", not an int");
                values[i] = x;
            }
        } else {
            throw new PickleException(source, where + " is " + Unpickler.kind(v) + ", not an array of indices");
        }
        int[] out = new int[values.length];
        for (int i = 0; i < out.length; i++) {
            if (values[i] < 0 || values[i] > Integer.MAX_VALUE) throw new PickleException(source, where + "[" + i + "] = " + values[i] + " is not a database index");
            out[i] = (int) values[i];
        }
        return out;
    }

    private static double[] box(Map<?, ?> g, int q, String source) throws PickleException {
        Object v = g.get("bbx");
        if (v == null) return null;
        double[] out;
        if (v instanceof NumpyArray a) {
            out = a.toDoubles();
        } else if (v instanceof List<?> || v instanceof PyTuple) {
            List<?> l = v instanceof PyTuple t ? t.items() : (List<?>) v;
            out = new double[l.size()];
            for (int i = 0; i < out.length; i++) {
                Object x = l.get(i);
                if (x instanceof Long n) out[i] = n;
                else if (x instanceof Double d) out[i] = d;
                else throw new PickleException(source, "gnd[" + q + "].bbx[" + i + "] is " + Unpickler.kind(x) + ", not a number");
            }
        } else {
            throw new PickleException(source, "gnd[" + q + "].bbx is " + Unpickler.kind(v) + ", not 4 numbers");
        }
        if (out.length != 4) throw new PickleException(source, "gnd[" + q + "].bbx has " + out.length + " values, not 4 (x1, y1, x2, y2)");
        for (double d : out) if (!Double.isFinite(d)) throw new PickleException(source, "gnd[" + q + "].bbx holds " + d);
        return out;
    }

    private static List<String> names(Map<?, ?> cfg, String key, String source) throws PickleException {
        Object v = cfg.get(key);
        if (v == null) return null;
        if (!(v instanceof List<?> l)) throw new PickleException(source, "\"" + key + "\" is " + Unpickler.kind(v) + ", not a list of names");
        List<String> out = new ArrayList<>(l.size());
        for (int i = 0; i < l.size(); i++) {
            if (!(l.get(i) instanceof String s)) throw new PickleException(source, "\"" + key + "\"[" + i + "] is " + Unpickler.kind(l.get(i)) + ", not a str");
            out.add(s);
        }
        return out;
    }
}
