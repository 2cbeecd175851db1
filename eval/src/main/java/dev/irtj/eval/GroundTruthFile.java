package dev.irtj.eval;

import dev.irtj.tensor.AtomicFiles;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * Revisited Oxford/Paris ground truth in a plain JSON file, the fields of revisitop's
 * {@code gnd_*.pkl} under the same names:
 *
 * <pre>{@code
 * {
 *   "dataset": "roxford5k",                         // optional
 *   "imlist":  ["all_souls_000013", ...],           // optional: database images, descriptor order
 *   "qimlist": ["all_souls_000013", ...],           // optional: query images, query order
 *   "gnd": [                                        // one object per query, in query order
 *     {"easy": [12, 80], "hard": [5], "junk": [7], "bbx": [136.5, 34.1, 648.5, 955.2]},
 *     ...
 *   ]
 * }
 * }</pre>
 *
 * Indices are 0-based database indices (as in the .pkl files). {@code easy}, {@code hard},
 * {@code junk} and {@code bbx} (the query's crop box x1, y1, x2, y2) may each be missing; unknown
 * fields are ignored. A file whose top level is an array is read as the {@code gnd} list alone.
 * When {@code imlist} is given, every index must be below its length; when {@code qimlist} is
 * given, it must have one entry per query. {@link #read(Path)} also reads revisitop's .pkl files
 * as they are ({@link GroundTruthPickle}); a .pkl can also be converted with a few lines of Python:
 *
 * <pre>{@code
 * import json, pickle
 * cfg = pickle.load(open('gnd_roxford5k.pkl', 'rb'))
 * gnd = [{k: [float(x) if k == 'bbx' else int(x) for x in g[k]] for k in g} for g in cfg['gnd']]
 * json.dump({'dataset': 'roxford5k', 'imlist': cfg['imlist'], 'qimlist': cfg['qimlist'], 'gnd': gnd},
 *           open('gnd_roxford5k.json', 'w'))
 * }</pre>
 *
 * @param dataset    the dataset's name, or null
 * @param imlist     database image names (empty when not given)
 * @param qimlist    query image names (empty when not given)
 * @param gnd        one ground truth per query
 * @param queryBoxes one crop box {x1, y1, x2, y2} per query, null entries where not given
 */
public record GroundTruthFile(String dataset, List<String> imlist, List<String> qimlist, List<GroundTruth> gnd,
                              List<double[]> queryBoxes) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public GroundTruthFile {
        imlist = imlist == null ? List.of() : List.copyOf(imlist);
        qimlist = qimlist == null ? List.of() : List.copyOf(qimlist);
        gnd = List.copyOf(gnd);
        List<double[]> boxes = new ArrayList<>();
        for (int i = 0; i < gnd.size(); i++) {
            double[] b = queryBoxes == null || i >= queryBoxes.size() ? null : queryBoxes.get(i);
            if (b != null && b.length != 4) throw new IllegalArgumentException("box of query " + i + " has " + b.length + " values, want 4");
            boxes.add(b == null ? null : b.clone());
        }
        if (queryBoxes != null && queryBoxes.size() > gnd.size()) {
            throw new IllegalArgumentException(queryBoxes.size() + " query boxes for " + gnd.size() + " queries");
        }
        queryBoxes = Collections.unmodifiableList(boxes);
        if (!qimlist.isEmpty() && qimlist.size() != gnd.size()) {
            throw new IllegalArgumentException("qimlist names " + qimlist.size() + " queries but gnd has " + gnd.size());
        }
        if (!imlist.isEmpty()) {
            for (int q = 0; q < gnd.size(); q++) {
                int m = gnd.get(q).maxIndex();
                if (m >= imlist.size()) {
                    throw new IllegalArgumentException("ground truth of query " + q + " names database index " + m
                            + " but imlist has " + imlist.size() + " images");
                }
            }
        }
    }

    /** Ground truth only, nothing else known. */
    public static GroundTruthFile of(List<GroundTruth> gnd) {
        return new GroundTruthFile(null, null, null, gnd, null);
    }

    /**
     * Reads the JSON form above, or revisitop's own {@code gnd_*.pkl} (recognised by its content,
     * read by {@link GroundTruthPickle}).
     */
    public static GroundTruthFile read(Path path) throws IOException {
        if (GroundTruthPickle.isPickle(path)) return GroundTruthPickle.read(path);
        try (InputStream in = Files.newInputStream(path)) {
            return read(in, path.toString());
        }
    }

    /** Reads from a stream (not closed); {@code source} names it in error messages. */
    public static GroundTruthFile read(InputStream in, String source) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(in);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || root.isMissingNode()) throw new IOException(source + ": empty file");
        JsonNode gndNode = root.isArray() ? root : root.get("gnd");
        if (gndNode == null || !gndNode.isArray()) throw new IOException(source + ": no \"gnd\" array of per-query ground truth");
        List<GroundTruth> gnd = new ArrayList<>();
        List<double[]> boxes = new ArrayList<>();
        for (int q = 0; q < gndNode.size(); q++) {
            JsonNode g = gndNode.get(q);
            if (!g.isObject()) throw new IOException(source + ": gnd[" + q + "] is not an object");
            gnd.add(new GroundTruth(ints(g, "easy", q, source), ints(g, "hard", q, source), ints(g, "junk", q, source)));
            boxes.add(box(g, q, source));
        }
        String dataset = null;
        List<String> imlist = null, qimlist = null;
        if (root.isObject()) {
            JsonNode ds = root.get("dataset");
            if (ds != null && !ds.isNull()) dataset = ds.asText();
            imlist = strings(root, "imlist", source);
            qimlist = strings(root, "qimlist", source);
        }
        try {
            return new GroundTruthFile(dataset, imlist, qimlist, gnd, boxes);
        } catch (IllegalArgumentException e) {
            throw new IOException(source + ": " + e.getMessage(), e);
        }
    }

    /** Writes this ground truth in the format above (to a temporary file, then renamed). */
    public void write(Path path) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        if (dataset != null) root.put("dataset", dataset);
        if (!imlist.isEmpty()) imlist.forEach(root.putArray("imlist")::add);
        if (!qimlist.isEmpty()) qimlist.forEach(root.putArray("qimlist")::add);
        ArrayNode arr = root.putArray("gnd");
        for (int q = 0; q < gnd.size(); q++) {
            GroundTruth g = gnd.get(q);
            ObjectNode o = arr.addObject();
            putInts(o, "easy", g.easy());
            putInts(o, "hard", g.hard());
            putInts(o, "junk", g.junk());
            double[] b = queryBoxes.get(q);
            if (b != null) {
                ArrayNode a = o.putArray("bbx");
                for (double v : b) a.add(v);
            }
        }
        AtomicFiles.writeString(path, JSON.writeValueAsString(root));
    }

    private static void putInts(ObjectNode o, String key, int[] values) {
        ArrayNode a = o.putArray(key);
        for (int i : values) a.add(i);
    }

    private static int[] ints(JsonNode g, String key, int q, String source) throws IOException {
        JsonNode a = g.get(key);
        if (a == null || a.isNull()) return null;
        if (!a.isArray()) throw new IOException(source + ": gnd[" + q + "]." + key + " is not an array");
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = a.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw new IOException(source + ": gnd[" + q + "]." + key + "[" + i + "] is not an integer: " + v);
            }
            out[i] = v.asInt();
            if (out[i] < 0) throw new IOException(source + ": gnd[" + q + "]." + key + "[" + i + "] is negative: " + v);
        }
        return out;
    }

    private static double[] box(JsonNode g, int q, String source) throws IOException {
        JsonNode a = g.get("bbx");
        if (a == null || a.isNull()) return null;
        if (!a.isArray() || a.size() != 4) throw new IOException(source + ": gnd[" + q + "].bbx is not an array of 4 numbers");
        double[] out = new double[4];
        for (int i = 0; i < 4; i++) {
            if (!a.get(i).isNumber()) throw new IOException(source + ": gnd[" + q + "].bbx[" + i + "] is not a number");
            out[i] = a.get(i).asDouble();
        }
        return out;
    }

    private static List<String> strings(JsonNode root, String key, String source) throws IOException {
        JsonNode a = root.get(key);
        if (a == null || a.isNull()) return null;
        if (!a.isArray()) throw new IOException(source + ": \"" + key + "\" is not an array of names");
        List<String> out = new ArrayList<>(a.size());
        for (Iterator<JsonNode> it = a.elements(); it.hasNext(); ) {
            JsonNode v = it.next();
            if (!v.isTextual()) throw new IOException(source + ": \"" + key + "\" holds a non-string " + v);
            out.add(v.asText());
        }
        return out;
    }
}
