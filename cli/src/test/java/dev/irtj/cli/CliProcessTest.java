package dev.irtj.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real irt in a child process: what it prints on stderr, and how it runs out of memory. */
class CliProcessTest {
    record Run(int code, String out, String err) {
    }

    static Run run(List<String> cmd, Path dir) throws IOException, InterruptedException {
        Path out = dir.resolve("stdout-" + System.nanoTime()), err = dir.resolve("stderr-" + System.nanoTime());
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(cmd + " did not finish in 180 s");
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /**
     * A copy of the repository's {@code irt} launcher in {@code root}, with a {@code cli/target/irt.jar}
     * that holds only a manifest: Main-Class and this test's class path. The launcher finds no
     * source newer than the jar there, so it runs it as it runs the shaded jar, with no build.
     */
    static Path launcher(Path root) throws IOException {
        Path home = Path.of(System.getProperty("irtj.home", "..")).toAbsolutePath().normalize();
        Path script = Files.copy(home.resolve("irt"), root.resolve("irt"));
        Path jar = Files.createDirectories(root.resolve("cli/target")).resolve("irt.jar");
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, Irt.class.getName());
        List<String> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            urls.add(Path.of(entry).toAbsolutePath().toUri().toString()); // folders end in '/', as Class-Path wants
        }
        m.getMainAttributes().put(Attributes.Name.CLASS_PATH, String.join(" ", urls));
        try (OutputStream o = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(o, m)) {
            j.flush();
        }
        return script;
    }

    @Test
    void helpSaysNothingOnStderrAndACommandAtMostOneLineEachForTheIncubatorAndTheCudaProbe(@TempDir Path dir) throws Exception {
        Path irt = launcher(Files.createDirectories(dir.resolve("home")));
        for (List<String> help : List.<List<String>>of(List.of("--help"), List.of(), List.of("train", "--help"), List.of("embed", "-h"), List.of("--version"))) {
            List<String> cmd = new ArrayList<>(List.of("bash", irt.toString()));
            cmd.addAll(help);
            Run r = run(cmd, dir);
            assertEquals(0, r.code(), help + ": " + r.err());
            assertEquals("", r.err(), "irt " + String.join(" ", help) + " prints nothing on stderr");
            assertFalse(r.out().isBlank(), help.toString());
        }
        Path data = CliTest.imageFolder(dir.resolve("data"), 3, 2);
        List<String> train = new ArrayList<>(List.of("bash", irt.toString()));
        train.addAll(List.of(RunFolderTest.train(data, dir.resolve("run"), 2)));
        Run t = run(train, dir);
        assertEquals(0, t.code(), t.err());
        List<String> lines = t.err().lines().toList();
        assertTrue(lines.stream().filter(l -> l.contains("incubator")).count() <= 1, t.err());
        assertTrue(lines.stream().filter(l -> l.toLowerCase(java.util.Locale.ROOT).contains("cuda")).count() <= 1, t.err());
        assertFalse(t.err().contains("\tat "), "no stack trace: " + t.err());
    }

    @Test
    void aModelTooLargeForTheHeapIsOneLineWithTheHeapSizeAndWhatToLower(@TempDir Path dir) throws Exception {
        Path data = CliTest.imageFolder(dir.resolve("data"), 3, 2);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Irt.class.getName()));
        List<String> args = new ArrayList<>(List.of(RunFolderTest.train(data, dir.resolve("run"), 2)));
        // DeiT-Base's shape: 86 M parameters, 344 MB of weights before the optimizer's moments.
        for (String[] kv : new String[][] {{"--img-size", "224"}, {"--patch", "16"}, {"--dim", "768"}, {"--depth", "12"}, {"--heads", "12"}}) {
            args.set(args.indexOf(kv[0]) + 1, kv[1]);
        }
        cmd.addAll(args);
        long t0 = System.nanoTime();
        Run r = run(cmd, dir);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(1, r.code(), r.err());
        List<String> errors = r.err().lines().filter(l -> l.startsWith("irt")).toList();
        assertEquals(1, errors.size(), r.err());
        String line = errors.get(0);
        assertTrue(line.matches("irt: out of memory with a \\d+ MiB heap; lower --batch .*model size.*-Xmx<size>.*\\(now -Xmx64m\\)"), line);
        assertFalse(r.err().contains("OutOfMemoryError") || r.err().contains("\tat "), "no stack trace: " + r.err());
        assertTrue(seconds < 60, "fails in " + seconds + " s");
    }
}
