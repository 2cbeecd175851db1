package dev.irtj.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.irtj.index.IndexInfo;
import dev.irtj.index.IndexedImage;
import dev.irtj.index.LuceneIndex;
import dev.irtj.index.VectorIndex;
import dev.irtj.retrieval.DescriptorPipeline;
import dev.irtj.retrieval.ModelSource;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import dev.irtj.vit.image.UndecodableImageException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code irt search}: the images of an index most similar to a query. */
@Command(name = "search", mixinStandardHelpOptions = true,
        description = {"The k indexed images most similar to a query image, a descriptor, or an indexed image (cosine similarity).",
                "The query image is described by the model the index recorded; model options override it (same fingerprint required)."})
public final class SearchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Mixin
    IndexOptions indexOptions;

    @Mixin
    ModelSourceOptions model;

    @ArgGroup(exclusive = true, multiplicity = "1", heading = "Query (one of)%n")
    Query query;

    static final class Query {
        @Option(names = "--image", paramLabel = "FILE", description = "An image file.")
        Path image;

        @Option(names = "--vector", paramLabel = "FILE",
                description = "A descriptor: a JSON array of numbers, text numbers separated by spaces or commas, or a .safetensors file with one tensor of D values; L2-normalized before searching.")
        Path vector;

        @Option(names = "--id", paramLabel = "INDEXED_PATH", description = "An indexed image: its id (path relative to the catalogue root) or its file path.")
        String id;
    }

    @Option(names = {"-k", "--top"}, paramLabel = "K", defaultValue = "10", description = "Results (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--ef", paramLabel = "N", description = "HNSW candidates per search, at least k (default: the index's, 100 unless irt index --ef set it).")
    Integer ef;

    @Option(names = "--json", description = "Print the results as one JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        IndexCommand.flag("-k", k, 1, Integer.MAX_VALUE);
        if (ef != null) IndexCommand.flag("--ef", ef, 1, Integer.MAX_VALUE);
        if (query.image != null && !Files.isRegularFile(query.image)) throw new UsageException("--image " + query.image + ": no such file");
        if (query.vector != null && !Files.isRegularFile(query.vector)) throw new UsageException("--vector " + query.vector + ": no such file");
        if (query.image == null) {
            IndexCommand.refuse(spec, IndexCommand.SHAPE_OPTIONS, "describes a query --image; drop it with --vector or --id");
            IndexCommand.refuse(spec, IndexCommand.RUN_OPTIONS, "describes a query --image; drop it with --vector or --id");
            IndexCommand.refuse(spec, List.of("--checkpoint", "--weights"), "describes a query --image; drop it with --vector or --id");
        } else if (!model.given()) {
            IndexCommand.refuse(spec, IndexCommand.SHAPE_OPTIONS, "needs --checkpoint or --weights (without them the index's recorded model is used as it was recorded)");
        }
        try (VectorIndex index = indexOptions.openForReading()) {
            IndexInfo info = index.info();
            LuceneIndex lucene = index instanceof LuceneIndex l ? l : null;
            if (ef != null && (lucene == null || lucene.options().exact())) {
                throw new UsageException("--ef sets the embedded index's HNSW search; --index " + indexOptions.folder()
                        + (lucene == null ? " is not one" : " searches exactly (built with --exact)"));
            }
            float[] q;
            String what;
            if (query.image != null) {
                q = describe(index, info, query.image);
                what = query.image.toString();
            } else if (query.vector != null) {
                q = readVector(query.vector, info.dims());
                what = query.vector.toString();
            } else {
                IndexedImage img = indexed(index, query.id);
                q = img.vector();
                what = img.id();
            }
            List<VectorIndex.Hit> hits = ef != null ? lucene.search(q, k, ef) : index.search(q, k);
            print(what, info, hits);
        }
        return 0;
    }

    private float[] describe(VectorIndex index, IndexInfo info, Path image) throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        DescriptorPipeline describer;
        if (model.given()) {
            describer = model.open(err);
        } else {
            String source = index.describerSource();
            if (source.equals("{}")) {
                throw new UsageException("--index " + indexOptions.folder() + " records no model source to describe --image; give --checkpoint RUN or --weights FILE");
            }
            describer = model.open(ModelSource.fromJson(source), err);
        }
        try (describer) {
            if (!describer.fingerprint().equals(info.fingerprint()) || describer.dims() != info.dims()) {
                throw new UsageException("the index holds descriptors of " + info.describer() + " (fingerprint " + info.fingerprint() + ", " + info.dims()
                        + " dims), not of " + describer.describe() + " (fingerprint " + describer.fingerprint() + ", " + describer.dims() + " dims)");
            }
            try {
                return describer.describe(image);
            } catch (UndecodableImageException e) {
                throw new UsageException("--image " + image + ": not a decodable image (" + e.reason() + ")");
            }
        }
    }

    /** An indexed image by id, or by its stored file path. */
    private IndexedImage indexed(VectorIndex index, String id) throws IOException {
        Optional<IndexedImage> img = index.get(id);
        if (img.isEmpty()) {
            String abs = Path.of(id).toAbsolutePath().normalize().toString();
            for (Map.Entry<String, IndexedImage.Stamp> e : index.stamps().entrySet()) {
                if (e.getValue().path().equals(abs)) {
                    img = index.get(e.getKey());
                    break;
                }
            }
        }
        return img.orElseThrow(() -> new UsageException("--id " + id + ": no such image in the index (ids are paths relative to the catalogue root, e.g. class0/img1.png)"));
    }

    /** A descriptor file, L2-normalized. */
    static float[] readVector(Path file, int dims) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        float[] v;
        if (name.endsWith(".safetensors")) {
            SafeTensors.File f = SafeTensors.read(file);
            if (f.tensors().size() != 1) {
                throw new UsageException("--vector " + file + ": expected one tensor, found " + f.tensors().size() + " (" + f.tensors().keySet() + ")");
            }
            Tensor t = f.tensors().values().iterator().next();
            v = t.toFloatArray();
        } else {
            String text = Files.readString(file).strip();
            try {
                if (text.startsWith("[")) {
                    JsonNode node = JSON.readTree(text);
                    v = new float[node.size()];
                    for (int i = 0; i < v.length; i++) {
                        if (!node.get(i).isNumber()) throw new NumberFormatException("element " + i + " is not a number");
                        v[i] = (float) node.get(i).asDouble();
                    }
                } else {
                    String[] parts = text.isEmpty() ? new String[0] : text.split("[\\s,]+");
                    v = new float[parts.length];
                    for (int i = 0; i < v.length; i++) v[i] = Float.parseFloat(parts[i]);
                }
            } catch (IOException | NumberFormatException e) {
                throw new UsageException("--vector " + file + ": expected a JSON array or a list of numbers (" + e.getMessage().lines().findFirst().orElse("") + ")");
            }
        }
        if (v.length != dims) throw new UsageException("--vector " + file + ": " + v.length + " values, but the index holds " + dims + "-dim descriptors");
        double sq = 0;
        for (float x : v) {
            if (!Float.isFinite(x)) throw new UsageException("--vector " + file + ": a value is not finite");
            sq += (double) x * x;
        }
        if (sq == 0) throw new UsageException("--vector " + file + ": the zero vector has no direction");
        float inv = (float) (1 / Math.sqrt(sq));
        for (int i = 0; i < v.length; i++) v[i] *= inv;
        return v;
    }

    private void print(String what, IndexInfo info, List<VectorIndex.Hit> hits) {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode root = JSON.createObjectNode();
            root.put("query", what);
            root.put("index", indexOptions.folder().toString());
            root.put("describer", info.describer());
            root.put("images", info.count());
            ArrayNode arr = root.putArray("hits");
            int rank = 1;
            for (VectorIndex.Hit h : hits) {
                IndexedImage img = h.image();
                ObjectNode o = arr.addObject();
                o.put("rank", rank++);
                o.put("id", img.id());
                o.put("path", img.path());
                o.put("score", h.score());
                if (img.label() == null) o.putNull("label"); else o.put("label", img.label());
                o.put("width", img.width());
                o.put("height", img.height());
                ObjectNode meta = o.putObject("metadata");
                img.metadata().forEach(meta::put);
            }
            out.println(root.toString());
        } else {
            out.printf("%4s  %-8s  %5s  %s%n", "rank", "score", "label", "path");
            int rank = 1;
            for (VectorIndex.Hit h : hits) {
                Long label = h.image().label();
                out.printf(Locale.ROOT, "%4d  %8.6f  %5s  %s%n", rank++, h.score(), label == null ? "-" : label.toString(), h.image().path());
            }
        }
        out.flush();
    }
}
