package dev.irtj.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every bad value of irt train is one usage line naming the flag, before any data is read or file written. */
class TrainFlagsTest {
    @TempDir
    static Path dir;
    static Path data;

    @BeforeAll
    static void images() throws IOException {
        data = CliTest.imageFolder(dir.resolve("data"), 3, 2);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "--m, 0, --m must be at least 1",
            "--depth, 0, --depth must be at least 1",
            "--heads, -2, --heads must be at least 1",
            "--lambda, -1, --lambda must be >= 0",
            "--warmup, 50, --warmup must be in [0, --iters = 6]",
            "--lr, NaN, --lr must be a positive number",
            "--lr, 0, --lr must be a positive number",
            "--eval-every, -1, --eval-every must be >= 0",
            "--recall, '0,-1', --recall values must be at least 1",
            "--momentum, 1, --momentum must be in [0, 1)",
            "--beta, 2, --beta is a cosine-similarity margin in [-1, 1]",
            "--drop-path, 1.5, --drop-path must be in [0, 1)",
            "--batch, 12, needs 6 classes in every batch, but the training split has 3; use --batch 6 or fewer (with --m 2)",
            "--img-size, 20, --img-size 20 is not a multiple of --patch 8; use --img-size 16 or 24",
            "--heads, 3, --dim 16 is not divisible by --heads 3; use --heads 2 or a --dim that 3 divides",
            "--memory-ratio, 1.5, '--memory-ratio is a fraction of the training set in [0, 1] (0.2 for In-Shop, as the paper; 0 = no memory), got 1.5'",
            "--memory, -3, --memory must be >= 0",
    })
    void badValuesAreOneUsageLineAndWriteNothing(String flag, String value, String expected) {
        Path out = dir.resolve("out-" + flag.substring(2) + "-" + Math.abs(value.hashCode()));
        List<String> args = new ArrayList<>(Arrays.asList(RunFolderTest.train(data, out, 6)));
        int at = args.indexOf(flag);
        if (at >= 0) {
            args.set(at + 1, value);
        } else {
            args.add(flag);
            args.add(value);
        }
        CliTest.Result r = CliTest.irt(args.toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        String first = r.err().lines().findFirst().orElse("");
        assertTrue(first.startsWith("irt train: ") && first.contains(expected), r.err());
        assertEquals(2, r.err().strip().lines().count(), "the line and the --help hint: " + r.err());
        assertFalse(Files.exists(out), "nothing written before the checks pass");
    }

    @org.junit.jupiter.api.Test
    void splitsThatAreNotSplitsAreWarnedAbout() throws IOException {
        CliTest.Result same = CliTest.irt(RunFolderTest.train(data, dir.resolve("same"), 2));
        assertEquals(0, same.code(), same.err());
        assertTrue(same.err().contains("warning: training and testing on the same images of " + data), same.err());

        Path onlyTrain = CliTest.imageFolder(dir.resolve("only").resolve("train"), 3, 2).getParent();
        CliTest.Result t = CliTest.irt(RunFolderTest.train(onlyTrain, dir.resolve("only-run"), 2));
        assertEquals(0, t.code(), t.err());
        assertTrue(t.err().contains("has no test/ folder beside it"), t.err());
        String config = Files.readString(dir.resolve("only-run").resolve("config.json"));
        assertTrue(config.contains("\"train_images\" : 6"), "the classes of train/, not a class named train: " + config);

        CliTest.Result zeroShot = CliTest.irt(RunFolderTest.train(data, dir.resolve("zs"), 2, "--train-classes", "0-1", "--test-classes", "2"));
        assertEquals(0, zeroShot.code(), zeroShot.err());
        assertFalse(zeroShot.err().contains("warning: training and testing"), zeroShot.err());
    }

    @org.junit.jupiter.api.Test
    void errorsAreOneLine() {
        assertEquals("a; b; c", Irt.oneLine(new IllegalStateException("a\n  b\r\nc\n")));
        String none = Irt.oneLine(new NullPointerException());
        assertTrue(none.startsWith("NullPointerException") && none.contains("-Dirtj.debug=true") && !none.contains("\n"), none);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "--memory 10 --memory-ratio 0.2 | --memory and --memory-ratio both set the cross-batch memory's size; give one",
            "--memory 0 --enqueue before | --enqueue before needs a cross-batch memory, but its size is 0",
            "--memory-ratio 0 --enqueue after | --enqueue after needs a cross-batch memory, but its size is 0",
            "--pretrain-classification --reduction pml | --reduction applies to the contrastive loss, not to --pretrain-classification",
            "--pretrain-classification --memory-ratio 0.2 | --memory-ratio applies to the contrastive loss, not to --pretrain-classification",
    })
    void conflictingFlagsAreOneUsageLine(String flags, String expected) {
        Path out = dir.resolve("conflict-" + Math.abs(flags.hashCode()));
        List<String> args = new ArrayList<>(Arrays.asList(RunFolderTest.train(data, out, 6)));
        args.addAll(Arrays.asList(flags.trim().split(" ")));
        CliTest.Result r = CliTest.irt(args.toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        String first = r.err().lines().findFirst().orElse("");
        assertTrue(first.startsWith("irt train: ") && first.contains(expected.trim()), r.err());
        assertFalse(Files.exists(out), "nothing written before the checks pass");
    }

    /** A short training run with each convention: it trains, and config.json records what was asked. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "--reduction paper --enqueue after | \"reduction\" : \"paper\" | \"enqueue\" : \"after\"",
            "--reduction pml --enqueue before | \"reduction\" : \"pml\" | \"enqueue\" : \"before\"",
            "--reduction xbm --enqueue before | \"reduction\" : \"xbm\" | \"enqueue\" : \"before\"",
            "--reduction XBM --memory-ratio 0.5 | \"memory\" : 3 | \"memory_ratio\" : 0.5",
    })
    void eachConventionTrainsAndIsRecorded(String flags, String recorded, String alsoRecorded) throws IOException {
        Path out = dir.resolve("convention-" + Math.abs(flags.hashCode()));
        List<String> args = new ArrayList<>(Arrays.asList(RunFolderTest.train(data, out, 4)));
        args.addAll(Arrays.asList(flags.trim().split(" ")));
        CliTest.Result r = CliTest.irt(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        String config = Files.readString(out.resolve("config.json"));
        assertTrue(config.contains(recorded.trim()) && config.contains(alsoRecorded.trim()), config);
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            com.fasterxml.jackson.databind.JsonNode n = dev.irtj.retrieval.RunConfig.json().readTree(line);
            if (n.has("loss")) assertTrue(Double.isFinite(n.get("contrastive").asDouble()), line);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "--reduction, mean, 'expected one of [PAPER, PML, XBM] (case-insensitive) but was'",
            "--enqueue, sideways, 'expected one of [BEFORE, AFTER] (case-insensitive) but was'",
    })
    void unknownConventionsAreNamedWithTheChoices(String flag, String value, String expected) {
        Path out = dir.resolve("choice-" + flag.substring(2));
        List<String> args = new ArrayList<>(Arrays.asList(RunFolderTest.train(data, out, 6)));
        args.addAll(List.of(flag, value));
        CliTest.Result r = CliTest.irt(args.toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        String first = r.err().lines().findFirst().orElse("");
        assertTrue(first.contains("'" + flag + "'") && first.contains(expected) && first.contains(value), r.err());
        assertFalse(Files.exists(out));
    }
}
