package dev.irtj.train;

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

    public static boolean exists(Path runDir) {
        return Files.isRegularFile(runDir.resolve(INDEX));
    }

    public static Loaded load(Path runDir) throws IOException {
        Path index = runDir.resolve(INDEX);
        if (!Files.isRegularFile(index)) throw new IOException("no checkpoint in " + runDir + " (" + INDEX + " is missing)");
        ObjectNode node;
        try {
            node = (ObjectNode) JSON.readTree(index.toFile());
        } catch (IOException | ClassCastException e) {
            throw new IOException(index + " is not a valid checkpoint index: " + e.getMessage(), e);
        }
        if (!node.hasNonNull("file") || !node.hasNonNull("step")) throw new IOException(index + " lacks 'file' or 'step'");
        Path file = runDir.resolve(node.get("file").asText());
        SafeTensors.File f = SafeTensors.read(file);
        ObjectNode state = node.has("state") ? (ObjectNode) node.get("state") : JSON.createObjectNode();
        return new Loaded(node.get("step").asLong(), f.tensors(), state, file);
    }

    public static ObjectMapper json() {
        return JSON;
    }
}
