package dev.irtj.retrieval;

import dev.irtj.tensor.Fuzzing;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.ViTConfig;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random mutations of the JSON a run or descriptor folder holds (issue 11, item 6): a run's
 * {@code config.json} ({@link RunConfig#read}), a descriptor folder's {@code manifest.json}
 * ({@link DescriptorShards#read}) and the model source an index records ({@link
 * ModelSource#fromJson}). Each gives a usable result or an {@link IOException} of one line naming
 * the file (the model source has no file: its line says "model source"); never another
 * exception, a hang or a large allocation.
 */
class RunFolderJsonFuzzTest {
    private static final Duration TIME = Duration.ofSeconds(5);
    private static final long BYTES = 32L << 20;

    /** Three 4-d descriptors; what the shard folder needs of a describer and nothing more. */
    private static final class FixedDescriber implements ImageDescriber {
        public int dims() {
            return 4;
        }

        public String fingerprint() {
            return "fixed-4";
        }

        public String describe() {
            return "a fixed test describer";
        }

        public String source() {
            return "{}";
        }

        public float[] describe(BufferedImage image) {
            return new float[] {1, 0, 0, 0};
        }

        public float[] describe(Path file) {
            return new float[] {0, 1, 0, 0};
        }

        public void describeAll(List<Path> files, Consumer<Described> sink) {
            for (Path f : files) sink.accept(new Described(f, describe(f), 2, 3, null));
        }
    }

    private static void delete(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** A valid run folder and a valid descriptor folder, written once; each try overwrites only the JSON it mutates. */
    private static Path run, shards;
    private static String config, manifest;

    @BeforeContainer
    static void validFolders() throws IOException {
        run = Files.createTempDirectory("config-fuzz");
        new RunConfig(ViTConfig.of(16, 8, 3, 16, 1, 2, 4), false, Pooling.GEM, Map.of("lr", 1e-3, "data", "x")).write(run);
        config = Files.readString(run.resolve(RunConfig.FILE));
        shards = Files.createTempDirectory("manifest-fuzz");
        try (DescriptorShards.Writer w = DescriptorShards.open(shards, new FixedDescriber(), 2)) {
            for (String name : List.of("a.png", "b.png", "c.png")) w.add(name, new ImageDescriber.Described(Path.of(name), new float[] {0, 0, 1, 0}, 5, 6, null));
            w.add("bad.png", new ImageDescriber.Described(Path.of("bad.png"), null, 0, 0, "corrupt PNG data"));
        }
        manifest = Files.readString(shards.resolve(DescriptorShards.MANIFEST));
    }

    @AfterContainer
    static void deleteFolders() throws IOException {
        delete(run);
        delete(shards);
    }

    @Property(tries = 250, seed = "20270")
    void mutatedRunConfigsReadOrFailInOneLine(@ForAll long seed) throws Exception {
        Path f = run.resolve(RunConfig.FILE);
        Files.write(f, Fuzzing.mutateText(config, new Random(seed)));
        Fuzzing.bounded(TIME, BYTES, () -> {
            try {
                RunConfig rc = RunConfig.read(run);
                assertNotNull(rc.model());
                assertNotNull(rc.pooling());
                assertNotNull(rc.settings());
            } catch (IOException e) {
                Fuzzing.assertOneLineNaming(e.getMessage(), f.toString());
            }
        });
    }

    @Property(tries = 250, seed = "20280")
    void mutatedDescriptorManifestsReadOrFailInOneLine(@ForAll long seed) throws Exception {
        Path m = shards.resolve(DescriptorShards.MANIFEST);
        Files.write(m, Fuzzing.mutateText(manifest, new Random(seed)));
        Fuzzing.bounded(TIME, BYTES, () -> {
            try {
                DescriptorShards.Contents c = DescriptorShards.read(shards);
                assertEquals(c.paths().size(), c.descriptors().shape(0));
                assertEquals(c.paths().size(), c.sizes().size());
                for (int[] wh : c.sizes()) assertEquals(2, wh.length);
            } catch (IOException e) {
                Fuzzing.assertOneLineNaming(e.getMessage(), shards.toString());
            }
        });
    }

    @Property(tries = 250, seed = "20290")
    void mutatedModelSourcesReadOrFailInOneLine(@ForAll boolean run, @ForAll long seed) {
        Random r = new Random(seed);
        ModelSource source = run ? new ModelSource.Run(Path.of("/runs/r1"), Pooling.AVG, 0.9, true)
                : new ModelSource.Weights(Path.of("/w/deit.safetensors"), ViTConfig.deitTiny(), null, null);
        String text = new String(Fuzzing.mutateText(source.toJson(), r), StandardCharsets.UTF_8);
        Fuzzing.bounded(TIME, BYTES, () -> {
            try {
                ModelSource got = ModelSource.fromJson(text);
                assertTrue(got.crop() > 0 && got.crop() <= 1);
                if (got instanceof ModelSource.Weights w) assertNotNull(w.config());
            } catch (IOException e) {
                Fuzzing.assertOneLineNaming(e.getMessage(), "model source");
            }
        });
    }

    /** What the fuzz found: missing fields were NullPointerExceptions later, unknown values unchecked exceptions. */
    @Test
    void incompleteConfigsAndSourcesAreOneLineErrors(@TempDir Path run) throws IOException {
        Files.writeString(run.resolve(RunConfig.FILE), "{\"distilled\": false}");
        IOException noModel = assertThrows(IOException.class, () -> RunConfig.read(run));
        assertTrue(noModel.getMessage().endsWith("is not a valid run configuration: no \"model\""), noModel.getMessage());
        for (String bad : List.of("{\"kind\":\"run\"}", "{\"kind\":\"run\",\"dir\":\"/r\",\"pooling\":\"median\"}",
                "{\"kind\":\"weights\",\"file\":\"/w\"}", "{\"kind\":\"run\",\"dir\":\"/r\",\"crop_pct\":7}", "{\"kind\":\"run\",\"dir\":\"a\\u0000b\"}")) {
            IOException e = assertThrows(IOException.class, () -> ModelSource.fromJson(bad), bad);
            assertTrue(e.getMessage().startsWith("not a model source"), e.getMessage());
        }
    }
}
