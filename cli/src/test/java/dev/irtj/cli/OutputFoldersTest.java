package dev.irtj.cli;

import dev.irtj.retrieval.DescriptorShards;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static dev.irtj.cli.CliTest.irt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** An output that cannot be written is one line naming the folder, the action and the problem, before any compute (issue 11). */
class OutputFoldersTest {
    @TempDir
    static Path dir;
    static Path data, weights;

    @BeforeAll
    static void imagesAndWeights() throws IOException {
        data = CliTest.imageFolder(dir.resolve("data"), 3, 2);
        weights = dir.resolve("w.safetensors");
        TimmCheckpoint.save(new VisionTransformer(ViTConfig.of(16, 8, 3, 16, 1, 2, 4), new Rng(2), DType.F32), weights);
    }

    @Test
    void trainIntoAFileOrBelowAFileNamesTheFolderAndTheProblem() throws IOException {
        Path file = Files.writeString(dir.resolve("not-a-folder"), "mine");
        CliTest.Result onFile = irt(RunFolderTest.train(data, file, 2));
        assertEquals(2, onFile.code(), onFile.err());
        assertTrue(onFile.err().contains("cannot use run folder " + file + ": it is a file"), onFile.err());
        assertEquals("mine", Files.readString(file));

        Path below = file.resolve("run");
        CliTest.Result under = irt(RunFolderTest.train(data, below, 2));
        assertEquals(2, under.code(), under.err());
        assertTrue(under.err().contains("cannot create run folder " + below + ": " + file), under.err());
        assertFalse(under.err().contains("Exception"), under.err());
    }

    @Test
    void trainIntoAReadOnlyFolderSaysItCannotWriteThere() throws IOException {
        assumeFalse("root".equals(System.getProperty("user.name")), "root writes into read-only folders");
        Path ro = Files.createDirectories(dir.resolve("read-only"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            CliTest.Result r = irt(RunFolderTest.train(data, ro, 2));
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("cannot write in run folder " + ro + ": permission denied"), r.err());
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void embedIntoAMissingFolderCreatesItAndAMissingWeightsFileIsNamed() throws IOException {
        Path out = dir.resolve("missing/deeper/desc");
        String[] shape = {"--img-size", "16", "--patch", "8", "--dim", "16", "--depth", "1", "--heads", "2"};
        CliTest.Result r = irt(concat(new String[] {"embed", "--weights", weights.toString(), "--images", data.toString(), "--out", out.toString()}, shape));
        assertEquals(0, r.code(), r.err());
        assertEquals(6, DescriptorShards.read(out).paths().size());

        Path nope = dir.resolve("nope.safetensors");
        Path out2 = dir.resolve("desc2");
        CliTest.Result missing = irt(concat(new String[] {"embed", "--weights", nope.toString(), "--images", data.toString(), "--out", out2.toString()}, shape));
        assertTrue(missing.code() != 0, missing.err());
        assertTrue(missing.err().contains("--weights " + nope), missing.err());
        assertFalse(Files.exists(out2.resolve(DescriptorShards.MANIFEST)), "no descriptors written");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] o = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, o, a.length, b.length);
        return o;
    }

    @Test
    void anEmbedListThatIsNotTextOrHoldsANulByteIsOneLineNamingTheListAndLine() throws IOException {
        Path list = dir.resolve("list.txt");
        String[] shape = {"--img-size", "16", "--patch", "8", "--dim", "16", "--depth", "1", "--heads", "2"};
        Files.write(list, new byte[] {'a', '.', 'p', 'n', 'g', '\n', (byte) 0xC3, (byte) 0x28, '\n'});
        CliTest.Result notText = irt(concat(new String[] {"embed", "--weights", weights.toString(), "--list", list.toString(), "--out",
                dir.resolve("l1").toString()}, shape));
        assertEquals(2, notText.code(), notText.err());
        assertTrue(notText.err().contains("--list " + list + ": not UTF-8 text"), notText.err());
        Files.writeString(list, "# images\nx\u0000y.png\n");
        CliTest.Result nul = irt(concat(new String[] {"embed", "--weights", weights.toString(), "--list", list.toString(), "--out",
                dir.resolve("l2").toString()}, shape));
        assertEquals(2, nul.code(), nul.err());
        assertTrue(nul.err().contains("--list " + list + ":2: not a valid path"), nul.err());
    }
}
