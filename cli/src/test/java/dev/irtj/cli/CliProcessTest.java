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

    /**
     * As {@link #launcher}, but every folder of this test's class path packed into a jar of its
     * own under {@code root/lib}: a class path of jars only, as the shaded jar's, so that the
     * launcher's class-data-sharing archive can be made (the JVM archives no classes from folders).
     */
    static Path jarLauncher(Path root) throws IOException {
        Path home = Path.of(System.getProperty("irtj.home", "..")).toAbsolutePath().normalize();
        Path script = Files.copy(home.resolve("irt"), root.resolve("irt"));
        Path lib = Files.createDirectories(root.resolve("lib"));
        List<String> urls = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry).toAbsolutePath();
            if (Files.isDirectory(p)) {
                Path jar = lib.resolve((n++) + ".jar");
                try (OutputStream o = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(o); var files = Files.walk(p)) {
                    for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                        j.putNextEntry(new java.util.jar.JarEntry(p.relativize(f).toString().replace(File.separatorChar, '/')));
                        Files.copy(f, j);
                        j.closeEntry();
                    }
                }
                p = jar;
            }
            urls.add(p.toUri().toString());
        }
        Path jar = Files.createDirectories(root.resolve("cli/target")).resolve("irt.jar");
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, Irt.class.getName());
        m.getMainAttributes().put(Attributes.Name.CLASS_PATH, String.join(" ", urls));
        try (OutputStream o = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(o, m)) {
            j.flush();
        }
        return script;
    }

    /** A command that fails at once with its own two lines (the --vector file is missing). */
    private static List<String> failingSearch(Path irt, Path dir) {
        return List.of("bash", irt.toString(), "search", "--index", dir.resolve("no-index").toString(), "--vector",
                dir.resolve("missing.json").toString());
    }

    private static void assertOnlyTheCommandsOwnLines(Run r) {
        assertEquals(2, r.code(), r.err());
        assertEquals("", r.out());
        List<String> lines = r.err().lines().toList();
        assertEquals(3, lines.size(), r.err());
        assertEquals("WARNING: Using incubator modules: jdk.incubator.vector", lines.get(0), r.err());
        assertTrue(lines.get(1).startsWith("irt search: --vector ") && lines.get(1).endsWith("missing.json: no such file"), r.err());
        assertTrue(lines.get(2).startsWith("Try 'irt search --help'"), r.err());
    }

    /**
     * The launcher's class-data-sharing archive: made by the first command (silently), mapped by
     * the next (the JVM's class+load log names the archive as the source), and, truncated on
     * disk, not mapped but made again, the command still saying only its own lines.
     */
    @Test
    void theClassArchiveIsMadeOnceMappedAfterwardsAndADamagedOneIsMadeAgain(@TempDir Path dir) throws Exception {
        Path irt = jarLauncher(Files.createDirectories(dir.resolve("home")));
        Path archive = dir.resolve("home/cli/target/irt.jsa");
        assertOnlyTheCommandsOwnLines(run(failingSearch(irt, dir), dir));
        assertTrue(Files.size(archive) > 0, "archive made");
        assertEquals(Long.toString(Files.size(archive)), Files.readString(dir.resolve("home/cli/target/irt.jsa.bytes")).strip());
        long made = Files.getLastModifiedTime(archive).toMillis();

        List<String> logged = new ArrayList<>(List.of("env", "IRT_JAVA_OPTS=-Xlog:class+load=info"));
        logged.addAll(failingSearch(irt, dir));
        Run r = run(logged, dir);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.out().contains("source: shared objects file (top)"), "classes come from the archive");
        assertEquals(made, Files.getLastModifiedTime(archive).toMillis(), "not made again");

        assertTrue(archive.toFile().setWritable(true), "the JVM writes it read-only");
        try (var ch = java.nio.channels.FileChannel.open(archive, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(archive) / 2);
        }
        assertOnlyTheCommandsOwnLines(run(failingSearch(irt, dir), dir));
        assertEquals(Long.toString(Files.size(archive)), Files.readString(dir.resolve("home/cli/target/irt.jsa.bytes")).strip(),
                "made again whole");
    }

    /**
     * Where no archive can be made (here a {@code java} first on the PATH that fails whenever it
     * is asked to make one and runs the real one otherwise), the command says only its own lines,
     * a marker records the failure, and the next command does not try again.
     */
    @Test
    void aClassArchiveThatCannotBeMadeIsTriedOncePerJarAndNothingIsPrinted(@TempDir Path dir) throws Exception {
        Path irt = launcher(Files.createDirectories(dir.resolve("home")));
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Files.writeString(bin.resolve("java"), "#!/usr/bin/env bash\n"
                + "for a in \"$@\"; do case \"$a\" in -XX:ArchiveClassesAtExit=*) echo 'cannot archive' >&2; exit 1 ;; esac; done\n"
                + "exec '" + java + "' \"$@\"\n");
        assertTrue(bin.resolve("java").toFile().setExecutable(true));
        List<String> cmd = new ArrayList<>(List.of("env", "PATH=" + bin + File.pathSeparator + System.getenv("PATH")));
        cmd.addAll(failingSearch(irt, dir));
        Path failed = dir.resolve("home/cli/target/irt.jsa.failed");
        assertOnlyTheCommandsOwnLines(run(cmd, dir));
        assertTrue(Files.exists(failed), "failure marked");
        assertFalse(Files.exists(dir.resolve("home/cli/target/irt.jsa")));
        long marked = Files.getLastModifiedTime(failed).toMillis();
        Thread.sleep(20);
        assertOnlyTheCommandsOwnLines(run(cmd, dir));
        assertEquals(marked, Files.getLastModifiedTime(failed).toMillis(), "not tried again");
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
