package dev.irtj.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --resume names every setting that differs, and --resume --iters N extends a finished run. */
class ResumeSettingsTest {
    @Test
    void aRefusedResumeNamesEachDifferingSettingAndAnExtensionEqualsALongerRun(@TempDir Path dir) throws IOException {
        Path data = CliTest.imageFolder(dir.resolve("data"), 4, 3);
        Path run = dir.resolve("run");
        assertEquals(0, CliTest.irt(RunFolderTest.train(data, run, 4)).code());
        byte[] config = Files.readAllBytes(run.resolve("config.json"));

        String[] changed = RunFolderTest.train(data, run, 4, "--resume", "--beta", "0.3", "--wd", "0.01");
        changed[java.util.Arrays.asList(changed).indexOf("--lr") + 1] = "2e-3";
        CliTest.Result refused = CliTest.irt(changed);
        assertEquals(2, refused.code(), refused.err());
        String line = refused.err().lines().filter(l -> l.startsWith("irt train: ")).findFirst().orElse(refused.err());
        assertTrue(line.contains("lr: 0.001 → 0.002") && line.contains("weight_decay: 5.0E-4 → 0.01") && line.contains("beta: 0.5 → 0.3"), line);
        assertArrayEquals(config, Files.readAllBytes(run.resolve("config.json")), "a refused resume changes nothing");

        CliTest.Result shorter = CliTest.irt(RunFolderTest.train(data, run, 2, "--resume"));
        assertEquals(2, shorter.code(), shorter.err());
        assertTrue(shorter.err().contains("--iters 2 is below the step 4"), shorter.err());

        CliTest.Result extended = CliTest.irt(RunFolderTest.train(data, run, 8, "--resume"));
        assertEquals(0, extended.code(), extended.err());
        assertTrue(extended.err().contains("extending " + run + " from 4 to 8 iterations"), extended.err());
        Path straight = dir.resolve("straight");
        assertEquals(0, CliTest.irt(RunFolderTest.train(data, straight, 8)).code());
        assertArrayEquals(Files.readAllBytes(straight.resolve("model.safetensors")), Files.readAllBytes(run.resolve("model.safetensors")),
                "4 iterations, then 4 more, equal 8 at once (constant learning rate)");
        assertTrue(Files.readString(run.resolve("config.json")).contains("\"iterations\" : 8"));
    }
}
