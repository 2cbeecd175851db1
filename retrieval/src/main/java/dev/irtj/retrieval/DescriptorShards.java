package dev.irtj.retrieval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.irtj.tensor.AtomicFiles;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Descriptors on disk as a folder of shards, so that a catalogue of any size is embedded in
 * bounded memory and an interrupted run resumes where it stopped:
 *
 * <pre>
 * OUT/manifest.json                 format, fingerprint, describer, source, dims, the shards and the failed files
 * OUT/shard-00000.safetensors       'descriptors' [n, dims] F32; metadata 'paths' and 'sizes' (JSON lists)
 * </pre>
 *
 * <p>A shard is written (temporary file, then rename) before the manifest that lists it, so a
 * kill at any moment leaves a manifest that lists only whole shards; a shard the manifest does
 * not list is a leftover of a killed run and is removed on the next open. Files that could not be
 * decoded are listed in the manifest with the reason and tried again by the next run.
 */
public final class DescriptorShards {
    public static final String MANIFEST = "manifest.json";
    public static final String FORMAT = "irtj-descriptors/1";
    private static final ObjectMapper JSON = RunConfig.json();

    private DescriptorShards() {
    }

    /** What a shard folder holds, read back. */
    public record Contents(Tensor descriptors, List<String> paths, List<int[]> sizes, String fingerprint, String describer,
                           String source, Map<String, String> failed) {
    }

    /** Every descriptor of the folder in shard order, with its path. */
    public static Contents read(Path dir) throws IOException {
        ObjectNode m = manifest(dir);
        if (m == null) throw new IOException(dir + " holds no descriptors (" + MANIFEST + " is missing)");
        int dims = m.get("dims").asInt();
        List<String> paths = new ArrayList<>();
        List<int[]> sizes = new ArrayList<>();
        List<float[]> parts = new ArrayList<>();
        int total = 0;
        for (JsonNode s : m.get("shards")) {
            Shard shard = readShard(dir, s.get("file").asText(), dims);
            paths.addAll(shard.paths());
            sizes.addAll(shard.sizes());
            parts.add(shard.vectors());
            total += shard.paths().size();
        }
        if ((long) total * dims > Integer.MAX_VALUE - 16) {
            throw new IOException(dir + ": " + total + " descriptors of " + dims + " values do not fit one tensor; read the shards one by one");
        }
        float[] all = new float[total * dims];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return new Contents(Tensor.of(all, total, dims), paths, sizes, m.get("fingerprint").asText(), m.path("describer").asText(),
                m.path("source").asText(), failed(m));
    }

    /** Opens {@code dir} for writing descriptors of {@code describer}, resuming what an earlier run of the same describer wrote. */
    public static Writer open(Path dir, ImageDescriber describer, int shardSize) throws IOException {
        if (shardSize < 1) throw new IllegalArgumentException("--shard-size must be at least 1, got " + shardSize);
        return new Writer(dir, describer, shardSize);
    }

    /** Checks that {@code dir} can be a shard folder (creating it), before any compute. */
    public static void checkWritable(Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IOException("--out " + dir + " is a file; descriptors are written to a folder of shards");
        }
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".irtj-write-test", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new IOException("--out " + dir + " cannot be written: " + dev.irtj.tensor.FileProblems.why(e), e);
        }
    }

    /** Appends descriptors shard by shard. Not thread-safe. */
    public static final class Writer implements AutoCloseable {
        private final Path dir;
        private final int dims;
        private final int shardSize;
        private final ObjectNode manifest;
        private final Set<String> done = new HashSet<>();
        private final List<String> paths = new ArrayList<>();
        private final List<int[]> sizes = new ArrayList<>();
        private float[] buffer;
        private int written;

        private Writer(Path dir, ImageDescriber describer, int shardSize) throws IOException {
            checkWritable(dir);
            this.dir = dir;
            this.dims = describer.dims();
            this.shardSize = shardSize;
            this.buffer = new float[Math.min(shardSize, 1024) * dims];
            ObjectNode m = manifest(dir);
            if (m == null) {
                m = JSON.createObjectNode();
                m.put("format", FORMAT);
                m.put("fingerprint", describer.fingerprint());
                m.put("describer", describer.describe());
                m.put("source", describer.source());
                m.put("dims", dims);
                m.putArray("shards");
                m.putObject("failed");
            } else {
                if (!m.path("fingerprint").asText().equals(describer.fingerprint())) {
                    throw new IOException(dir + " holds descriptors of another model (" + m.path("describer").asText()
                            + ", fingerprint " + m.path("fingerprint").asText() + "), not of " + describer.describe() + " (fingerprint "
                            + describer.fingerprint() + "); choose another --out");
                }
                for (JsonNode s : m.get("shards")) {
                    Shard shard = readShard(dir, s.get("file").asText(), dims);
                    done.addAll(shard.paths());
                    written += shard.paths().size();
                }
                ((ObjectNode) m.get("failed")).removeAll(); // tried again
            }
            this.manifest = m;
            removeLeftovers();
        }

        /** Paths already embedded by an earlier run (skip them). */
        public Set<String> done() {
            return Set.copyOf(done);
        }

        /** Descriptors written so far, this run and earlier ones. */
        public int count() {
            return written + paths.size();
        }

        /** Adds one outcome under {@code key} (the path as the user gave it). */
        public void add(String key, ImageDescriber.Described d) throws IOException {
            if (!d.ok()) {
                ((ObjectNode) manifest.get("failed")).put(key, d.error());
                return;
            }
            if (d.vector().length != dims) throw new IllegalArgumentException("descriptor of " + d.vector().length + " values, want " + dims);
            if (!done.add(key)) return;
            int row = paths.size();
            if ((row + 1) * dims > buffer.length) buffer = java.util.Arrays.copyOf(buffer, Math.min(shardSize, 2 * (row + 1)) * dims);
            System.arraycopy(d.vector(), 0, buffer, row * dims, dims);
            paths.add(key);
            sizes.add(new int[] {d.width(), d.height()});
            if (paths.size() == shardSize) flush();
        }

        /** Writes the pending shard (if any) and the manifest. */
        public void flush() throws IOException {
            if (!paths.isEmpty()) {
                ArrayNode shards = (ArrayNode) manifest.get("shards");
                String name = String.format(Locale.ROOT, "shard-%05d.safetensors", shards.size());
                int n = paths.size();
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("paths", JSON.writeValueAsString(paths));
                meta.put("sizes", JSON.writeValueAsString(sizes));
                SafeTensors.write(dir.resolve(name), Map.of("descriptors", Tensor.of(java.util.Arrays.copyOf(buffer, n * dims), n, dims)), meta);
                ObjectNode s = shards.addObject();
                s.put("file", name);
                s.put("count", n);
                written += n;
                paths.clear();
                sizes.clear();
            }
            AtomicFiles.writeString(dir.resolve(MANIFEST), JSON.writeValueAsString(manifest));
        }

        /** Files that failed in this run, with the reason. */
        public Map<String, String> failed() {
            return DescriptorShards.failed(manifest);
        }

        @Override
        public void close() throws IOException {
            flush();
        }

        private void removeLeftovers() throws IOException {
            Set<String> listed = new HashSet<>();
            for (JsonNode s : manifest.get("shards")) listed.add(s.get("file").asText());
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "shard-*.safetensors")) {
                for (Path f : files) if (!listed.contains(f.getFileName().toString())) Files.deleteIfExists(f);
            }
        }
    }

    private record Shard(float[] vectors, List<String> paths, List<int[]> sizes) {
    }

    private static Shard readShard(Path dir, String name, int dims) throws IOException {
        if (!name.matches("shard-[0-9]+\\.safetensors")) {
            throw new IOException(dir.resolve(MANIFEST) + ": shard name '" + name.replaceAll("[\\p{Cntrl}\\u0085\\u2028\\u2029]", "?")
                    + "' is not a file of this folder (a shard-N.safetensors)");
        }
        if (!Files.isRegularFile(dir.resolve(name))) {
            throw new IOException(dir.resolve(MANIFEST) + " lists " + name + ", which is missing from " + dir
                    + "; embed again into a new --out, or delete the manifest to start over");
        }
        SafeTensors.File f = SafeTensors.read(dir.resolve(name));
        Tensor t = f.tensors().get("descriptors");
        String meta = f.metadata().get("paths");
        if (t == null || meta == null || t.rank() != 2 || t.shape(1) != dims) {
            throw new IOException(dir.resolve(name) + ": not a descriptor shard of " + dims + "-d vectors");
        }
        List<String> paths;
        try {
            paths = List.of(JSON.readValue(meta, String[].class));
        } catch (IOException | NullPointerException e) {
            throw new IOException(dir.resolve(name) + ": its 'paths' metadata is not a JSON list of strings");
        }
        String sz = f.metadata().get("sizes");
        List<int[]> sizes;
        try {
            sizes = sz == null ? new ArrayList<>() : new ArrayList<>(List.of(JSON.readValue(sz, int[][].class)));
        } catch (IOException | NullPointerException e) {
            throw new IOException(dir.resolve(name) + ": its 'sizes' metadata is not a JSON list of [width, height]");
        }
        for (int[] wh : sizes) {
            if (wh == null || wh.length != 2) throw new IOException(dir.resolve(name) + ": its 'sizes' metadata is not a JSON list of [width, height]");
        }
        if (paths.size() != t.shape(0) || (sz != null && sizes.size() != t.shape(0))) {
            throw new IOException(dir.resolve(name) + ": " + t.shape(0) + " descriptors but " + paths.size() + " paths");
        }
        while (sizes.size() < paths.size()) sizes.add(new int[] {0, 0});
        return new Shard(t.toFloatArray(), paths, sizes);
    }

    private static ObjectNode manifest(Path dir) throws IOException {
        Path f = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(f)) return null;
        JsonNode n;
        try {
            n = JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new IOException(f + " is not a valid descriptor manifest (" + e.getClass().getSimpleName() + " at "
                    + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j && j.getLocation() != null
                    ? "line " + j.getLocation().getLineNr() : "an unknown place") + ")", e);
        }
        if (n == null || !n.isObject() || !FORMAT.equals(n.path("format").asText()) || !n.path("shards").isArray()
                || !n.path("dims").canConvertToInt() || n.path("dims").asInt() < 1 || n.path("dims").asInt() > 1 << 20
                || !n.hasNonNull("fingerprint")) {
            throw new IOException(f + " is not a descriptor manifest of format " + FORMAT);
        }
        ObjectNode o = (ObjectNode) n;
        if (!o.path("failed").isObject()) o.putObject("failed");
        for (JsonNode sh : o.get("shards")) {
            if (!sh.path("file").isTextual()) throw new IOException(f + ": a shard entry has no \"file\" name");
        }
        return o;
    }

    private static Map<String, String> failed(ObjectNode m) {
        Map<String, String> out = new LinkedHashMap<>();
        m.get("failed").fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }
}
