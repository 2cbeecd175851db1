package dev.irtj.retrieval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.irtj.tensor.AtomicFiles;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.ViTConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * RUN/config.json: what a training run was (model shape, pooling, data, settings), so that
 * {@code irt eval --checkpoint RUN} and {@code --resume} rebuild the same model.
 */
public record RunConfig(ViTConfig model, boolean distilled, Pooling pooling, Map<String, Object> settings) {
    public static final String FILE = "config.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public void write(Path runDir) throws IOException {
        Files.createDirectories(runDir);
        AtomicFiles.writeString(runDir.resolve(FILE), JSON.writeValueAsString(this));
    }

    public static RunConfig read(Path runDir) throws IOException {
        Path f = runDir.resolve(FILE);
        if (!Files.isRegularFile(f)) throw new IOException(runDir + " is not an irt training run (" + FILE + " is missing)");
        RunConfig rc;
        try {
            rc = JSON.readValue(f.toFile(), RunConfig.class);
        } catch (IOException e) {
            String first = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            throw new IOException(f + " is not a valid run configuration: " + first, e);
        }
        // Jackson leaves a missing field null: refuse here, not with a NullPointerException when the model is built.
        if (rc == null || rc.model() == null || rc.pooling() == null) {
            throw new IOException(f + " is not a valid run configuration: " + (rc == null ? "the file is empty"
                    : "no \"" + (rc.model() == null ? "model" : "pooling") + "\""));
        }
        return rc.settings() == null ? new RunConfig(rc.model(), rc.distilled(), rc.pooling(), Map.of()) : rc;
    }

    public static ObjectMapper json() {
        return JSON;
    }
}
