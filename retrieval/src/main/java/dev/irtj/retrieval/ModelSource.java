package dev.irtj.retrieval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.irtj.eval.Pca;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.Checkpoint;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What makes descriptors: a run folder written by {@code irt train} (its model shape, channels,
 * input size, pooling, and the PCA that {@code irt eval --pca} saved there) or timm weights with
 * a model shape. {@link #toJson()} / {@link #fromJson} let an index record its source, so that
 * searching it needs no model options.
 *
 * <p>{@code pooling} and {@code cropPct} are overrides; null means the run's pooling (or CLS for
 * weights) and {@link #DEFAULT_CROP_PCT}.
 */
public sealed interface ModelSource permits ModelSource.Run, ModelSource.Weights {
    /** irtj's eval crop, the one its training transform uses: resize the shorter side to size/0.875. */
    double DEFAULT_CROP_PCT = 0.875;

    /** Where a run keeps the PCA fitted by {@code irt eval --pca}. */
    String PCA_FILE = "pca.safetensors";

    /** The weights a finished run leaves (timm names). */
    String RUN_WEIGHTS = "model.safetensors";

    /** A run folder; {@code usePca} false ignores a saved PCA. */
    record Run(Path dir, Pooling pooling, Double cropPct, boolean usePca) implements ModelSource {
        public Run {
            dir = dir.toAbsolutePath().normalize();
            checkCrop(cropPct);
        }

        public Run(Path dir) {
            this(dir, null, null, true);
        }
    }

    /** timm-named weights (safetensors) for a model of shape {@code config}. */
    record Weights(Path file, ViTConfig config, Pooling pooling, Double cropPct) implements ModelSource {
        public Weights {
            file = file.toAbsolutePath().normalize();
            checkCrop(cropPct);
        }
    }

    private static void checkCrop(Double cropPct) {
        if (cropPct != null && !(cropPct > 0 && cropPct <= 1)) {
            throw new IllegalArgumentException("--crop-pct must be in (0, 1], got " + cropPct);
        }
    }

    /** The crop fraction in effect. */
    default double crop() {
        Double c = this instanceof Run r ? r.cropPct() : ((Weights) this).cropPct();
        return c == null ? DEFAULT_CROP_PCT : c;
    }

    /** The model with its weights, pooling and PCA, on the host; the weights' content hash for the fingerprint. */
    record Loaded(VisionTransformer model, Pooling pooling, Pca pca, String weightsHash, String pcaHash, String origin) {
    }

    /**
     * Loads the model. A run without {@code model.safetensors} (not finished) gives the weights of
     * its last checkpoint.
     */
    default Loaded load() throws IOException {
        if (this instanceof Weights w) {
            if (!Files.isRegularFile(w.file())) throw new IOException("--weights " + w.file() + ": no such file");
            VisionTransformer model = TimmCheckpoint.load(w.file(), w.config(), DType.F32);
            if (w.pooling() == Pooling.CLS_DIST && !model.distilled()) throw new IOException("--weights " + w.file() + ": " + Pooling.NEEDS_DISTILLED);
            return new Loaded(model, w.pooling() == null ? Pooling.CLS : w.pooling(), null, sha256(w.file()), null,
                    w.file().getFileName().toString());
        }
        Run r = (Run) this;
        if (!Files.isDirectory(r.dir())) throw new IOException("--checkpoint " + r.dir() + ": not a run folder (no such directory)");
        RunConfig rc = RunConfig.read(r.dir());
        VisionTransformer model = new VisionTransformer(rc.model(), rc.distilled(), new Rng(0), DType.F32);
        Path weights = r.dir().resolve(RUN_WEIGHTS);
        String hash;
        String origin;
        if (Files.isRegularFile(weights)) {
            model.load(weights);
            hash = sha256(weights);
            origin = weights.toString();
        } else {
            Checkpoint.Loaded c = Checkpoint.load(r.dir());
            Map<String, Tensor> state = new LinkedHashMap<>();
            c.tensors().forEach((n, t) -> {
                if (n.startsWith("model.")) state.put(n.substring(6), t);
            });
            model.loadStateDict(state, c.file().toString(), n -> false);
            hash = sha256(c.file());
            origin = c.file() + " (step " + c.step() + ", the run has not finished)";
        }
        Pca pca = null;
        String pcaHash = null;
        Path pcaFile = r.dir().resolve(PCA_FILE);
        if (r.usePca() && Files.isRegularFile(pcaFile)) {
            pca = Pca.fromTensors(SafeTensors.read(pcaFile).tensors());
            if (pca.inputDims() != rc.model().embedDim()) {
                throw new IOException(pcaFile + ": PCA of " + pca.inputDims() + "-d descriptors, the run's model gives "
                        + rc.model().embedDim() + "; run irt eval --pca again or pass --no-pca");
            }
            pcaHash = sha256(pcaFile);
        }
        Pooling pooling = r.pooling() != null ? r.pooling() : rc.pooling();
        if (pooling == Pooling.CLS_DIST && !model.distilled()) throw new IOException("--checkpoint " + r.dir() + ": " + Pooling.NEEDS_DISTILLED);
        return new Loaded(model, pooling, pca, hash, pcaHash, origin);
    }

    /** The source as JSON (absolute paths). */
    default String toJson() {
        ObjectMapper json = RunConfig.json();
        ObjectNode n = json.createObjectNode();
        if (this instanceof Run r) {
            n.put("kind", "run");
            n.put("dir", r.dir().toString());
            if (r.pooling() != null) n.put("pooling", r.pooling().name().toLowerCase(Locale.ROOT));
            if (r.cropPct() != null) n.put("crop_pct", r.cropPct());
            n.put("pca", r.usePca());
        } else {
            Weights w = (Weights) this;
            n.put("kind", "weights");
            n.put("file", w.file().toString());
            n.set("model", json.valueToTree(w.config()));
            if (w.pooling() != null) n.put("pooling", w.pooling().name().toLowerCase(Locale.ROOT));
            if (w.cropPct() != null) n.put("crop_pct", w.cropPct());
        }
        try {
            return new ObjectMapper().writeValueAsString(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Reads {@link #toJson()}'s output. Anything else is an {@link IOException} of one line that
     * says what is wrong, never an unchecked exception.
     */
    static ModelSource fromJson(String text) throws IOException {
        JsonNode n;
        try {
            n = RunConfig.json().readTree(text);
        } catch (IOException e) {
            String m = e instanceof com.fasterxml.jackson.core.JacksonException j ? j.getOriginalMessage() : e.getMessage();
            throw new IOException("not a model source (JSON expected): " + oneLine(m), e);
        }
        if (n == null || !n.isObject() || !n.path("kind").isTextual()) throw new IOException("not a model source: no \"kind\" of run or weights");
        try {
            Pooling pooling = n.hasNonNull("pooling") ? Pooling.valueOf(n.get("pooling").asText().toUpperCase(Locale.ROOT)) : null;
            if (n.hasNonNull("crop_pct") && !n.get("crop_pct").isNumber()) throw new IOException("not a model source: \"crop_pct\" is not a number");
            Double crop = n.hasNonNull("crop_pct") ? n.get("crop_pct").asDouble() : null;
            return switch (n.get("kind").asText()) {
                case "run" -> new Run(Path.of(text(n, "dir")), pooling, crop, !n.has("pca") || n.get("pca").asBoolean());
                case "weights" -> {
                    if (!n.path("model").isObject()) throw new IOException("not a model source: weights without a \"model\" shape");
                    yield new Weights(Path.of(text(n, "file")), RunConfig.json().treeToValue(n.get("model"), ViTConfig.class), pooling, crop);
                }
                default -> throw new IOException("unknown model source kind '" + oneLine(n.get("kind").asText()) + "'");
            };
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException("not a model source: its \"model\" is not a model shape (" + oneLine(e.getOriginalMessage()) + ")", e);
        } catch (IllegalArgumentException e) { // an unknown pooling, a crop out of range, a path with a NUL byte
            throw new IOException("not a model source: " + oneLine(e.getMessage()), e);
        }
    }

    private static String text(JsonNode n, String field) throws IOException {
        if (!n.path(field).isTextual()) throw new IOException("not a model source: \"" + field + "\" is not a path");
        return n.get(field).asText();
    }

    private static String oneLine(String m) {
        return m == null ? "" : m.strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    /** SHA-256 of a file's bytes, as hex. */
    static String sha256(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            byte[] buf = new byte[1 << 16];
            while (in.read(buf) >= 0) {
                // the digest sees every byte read
            }
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
