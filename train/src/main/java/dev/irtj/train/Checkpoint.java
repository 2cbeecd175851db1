package dev.irtj.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.irtj.tensor.AtomicFiles;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A training checkpoint: one safetensors file of tensors (weights, optimizer moments, memory)
 * per saved step, and {@code checkpoint.json} naming the latest complete one with the step and
 * the run's state. The tensors are written first and the JSON is replaced atomically after, so a
 * crash at any moment leaves the previous checkpoint intact and referenced.
 */
public final class Checkpoint {
    public static final String INDEX = "checkpoint.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Checkpoint() {
    }

    /** A loaded checkpoint. */
    public record Loaded(long step, Map<String, Tensor> tensors, ObjectNode state, Path file) {
    }

    public static void save(Path runDir, long step, Map<String, Tensor> tensors, ObjectNode state) throws IOException {
        Files.createDirectories(runDir);
        String name = String.format("checkpoint-%08d.safetensors", step);
        SafeTensors.write(runDir.resolve(name), tensors, Map.of("step", Long.toString(step)));
        ObjectNode index = JSON.createObjectNode();
        index.put("step", step);
        index.put("file", name);
        index.set("state", state);
        AtomicFiles.writeString(runDir.resolve(INDEX), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index));
        // Older checkpoints are superseded only once the index points at the new one.
        try (DirectoryStream<Path> old = Files.newDirectoryStream(runDir, "checkpoint-*.safetensors")) {
            for (Path p : old) if (!p.getFileName().toString().equals(name)) Files.deleteIfExists(p);
        }
    }

    /** The step of the run's latest checkpoint, read from the index alone (the tensors are not read); -1 without one. */
    public static long latestStep(Path runDir) throws IOException {
        return exists(runDir) ? readIndex(runDir).get("step").asLong() : -1;
    }

    public static boolean exists(Path runDir) {
        return Files.isRegularFile(runDir.resolve(INDEX));
    }

    public static Loaded load(Path runDir) throws IOException {
        Path index = runDir.resolve(INDEX);
        ObjectNode node = readIndex(runDir);
        if (node.has("state") && !node.get("state").isObject()) throw new IOException(index + ": 'state' is not a JSON object");
        Path file = insideRun(runDir, node.get("file").asText(), index);
        if (!Files.isRegularFile(file)) {
            throw new IOException(index + " names " + file.getFileName() + ", which is missing from " + runDir
                    + "; restore it, or delete " + INDEX + " to start over");
        }
        SafeTensors.File f = SafeTensors.read(file);
        long step = node.get("step").asLong();
        String written = f.metadata().get("step");
        if (written != null && !written.equals(Long.toString(step))) {
            throw new IOException(index + " says step " + step + ", but " + file.getFileName() + " was written at step " + written
                    + "; the index was edited or mixed with another run's files");
        }
        ObjectNode state = node.has("state") ? (ObjectNode) node.get("state") : JSON.createObjectNode();
        return new Loaded(step, f.tensors(), state, file);
    }

    /** checkpoint.json, checked to be an object with a file name and a non-negative step. */
    private static ObjectNode readIndex(Path runDir) throws IOException {
        Path index = runDir.resolve(INDEX);
        if (!Files.isRegularFile(index)) throw new IOException("no checkpoint in " + runDir + " (" + INDEX + " is missing)");
        JsonNode read;
        try {
            read = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new IOException(index + " is not a valid checkpoint index (" + e.getClass().getSimpleName() + "): delete it to start over, or restore it", e);
        }
        if (read == null || !read.isObject()) {
            throw new IOException(index + " is not a valid checkpoint index: " + (read == null || read.isMissingNode() ? "the file is empty" : "not a JSON object"));
        }
        ObjectNode node = (ObjectNode) read;
        if (!node.hasNonNull("file") || !node.path("step").canConvertToLong() || node.get("step").asLong() < 0) {
            throw new IOException(index + " lacks a 'file' name or a non-negative 'step'");
        }
        return node;
    }

    /**
     * The checkpoint file {@code name} of {@code runDir}: a plain file name of this folder. A
     * path that leads elsewhere ({@code ../../x}, an absolute path) is refused, so an edited or
     * foreign checkpoint.json cannot make a resume read files outside the run.
     */
    static Path insideRun(Path runDir, String name, Path index) throws IOException {
        Path dir = runDir.toAbsolutePath().normalize();
        Path p;
        try {
            p = dir.resolve(name).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            throw new IOException(index + " names checkpoint file '" + printable(name) + "', which is not a file name");
        }
        if (!name.matches("checkpoint-[0-9]+\\.safetensors") || !dir.equals(p.getParent())) {
            throw new IOException(index + " names checkpoint file '" + printable(name) + "', which is not a checkpoint-N.safetensors file of "
                    + dir + "; refusing to read it");
        }
        return p;
    }

    /** A name read from JSON as it may be quoted in a one-line message: control characters (a line break, a NUL) as '?', at most 200 characters. */
    static String printable(String name) {
        String s = name.replaceAll("[\\p{Cntrl}\\u0085\\u2028\\u2029]", "?");
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    public static ObjectMapper json() {
        return JSON;
    }
}
