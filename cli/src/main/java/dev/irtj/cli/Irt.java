package dev.irtj.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code irt} command. */
@Command(name = "irt", mixinStandardHelpOptions = true, version = "irtj 0.1.0",
        description = "Image retrieval with Vision Transformers on the JVM.",
        subcommands = {TrainCommand.class, EvalCommand.class, EmbedCommand.class, IndexCommand.class, SearchCommand.class, ServeCommand.class, DemoCommand.class, BenchCommand.class})
public final class Irt implements Runnable {

    @Option(names = "--backend", description = "Force a compute backend: reference, cpu or cuda (default: the fastest usable one).",
            scope = CommandLine.ScopeType.INHERIT)
    void backend(String name) {
        System.setProperty("irtj.backend", name);
    }

    @Option(names = "--threads", description = "Worker threads for the CPU backend (default: all processors).",
            scope = CommandLine.ScopeType.INHERIT)
    void threads(int n) {
        if (n < 1) throw new CommandLine.ParameterException(new CommandLine(this), "--threads must be at least 1, got " + n);
        System.setProperty("irtj.threads", Integer.toString(n));
    }

    @Option(names = "--max-image-pixels", paramLabel = "N",
            description = "Largest image decoded, width x height read from its header before decoding (default: 100000000; larger files are skipped as undecodable).",
            scope = CommandLine.ScopeType.INHERIT)
    void maxImagePixels(long n) {
        if (n < 1) throw new CommandLine.ParameterException(new CommandLine(this), "--max-image-pixels must be at least 1, got " + n);
        System.setProperty(dev.irtj.vit.image.ImageDecoder.MAX_PIXELS_PROPERTY, Long.toString(n));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /**
     * Lucene 9.12 logs two lines on every start under Java 17 ("vector incubator module was
     * enabled ... but your Java version is too old"): its vectorized code needs Java 21, which
     * README's Performance section discusses. Held here so the logger (and its level) is not
     * collected.
     */
    private static final java.util.logging.Logger LUCENE_VECTORIZATION =
            java.util.logging.Logger.getLogger("org.apache.lucene.internal.vectorization");

    public static void main(String[] args) {
        // java.util.logging's default puts a date line before every message (the CUDA probe's
        // "no CUDA, computing on the CPU" took two lines); one line each, unless the user set a format.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%6$s%n");
        }
        LUCENE_VECTORIZATION.setLevel(java.util.logging.Level.SEVERE);
        quietLibraryLogging();
        int code;
        try {
            code = commandLine().execute(args);
        } catch (OutOfMemoryError e) {
            // One line instead of a stack trace: how much heap there was and what to lower.
            System.err.printf("irt: out of memory with a %d MiB heap; lower --batch (or --workers, or the model size), or give the JVM more: "
                    + "IRT_JAVA_OPTS=-Xmx<size> ./irt ... (now %s)%n", Runtime.getRuntime().maxMemory() >> 20, heapSetting());
            code = 1;
        }
        System.exit(code);
    }

    /** The JVM option that sized the heap: the last -Xmx (it overrides a RAM percentage), else the last -XX:MaxRAMPercentage, else none. */
    static String heapSetting() {
        String size = null, percentage = null;
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-Xmx") || a.startsWith("-XX:MaxHeapSize=")) size = a;
            if (a.startsWith("-XX:MaxRAMPercentage=")) percentage = a;
        }
        return size != null ? size : percentage != null ? percentage + " of this machine's memory" : "the JVM's default heap";
    }

    /**
     * The libraries that log through SLF4J (slf4j-simple, to stderr): Javalin and Jetty for irt
     * serve, SolrJ and ZooKeeper's client for --solr, which would print a screenful of INFO lines
     * per connection. Warnings and errors only, unless the user asked for more with
     * -Dorg.slf4j.simpleLogger.defaultLogLevel. Takes effect before the first logger is made.
     */
    static void quietLibraryLogging() {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
    }

    /**
     * An error as one line: its message (a message without one names its type, and a
     * multi-line message is joined with "; "), so that no failure prints a stack trace unless
     * -Dirtj.debug=true asks for it.
     */
    static String oneLine(Throwable e) {
        // java.nio's exceptions say only the path ("NoSuchFileException: /x/y"): say what is wrong with it.
        if (e instanceof java.io.UncheckedIOException u && u.getCause() instanceof java.nio.file.FileSystemException) e = u.getCause();
        if (e instanceof java.nio.file.FileSystemException f) return dev.irtj.tensor.FileProblems.why(f);
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            Throwable c = e.getCause();
            return e.getClass().getSimpleName() + (c != null && c.getMessage() != null ? ": " + oneLine(c) : "")
                    + " (run with IRT_JAVA_OPTS=-Dirtj.debug=true for the stack trace)";
        }
        return m.strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    /** The configured command line (also used by tests). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Irt());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        // A flag that does not parse is one line and the --help hint, as a UsageException is
        // (picocli's default prints the whole usage text, forty lines, after the error).
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine cmd = e.getCommandLine();
            String name = cmd.getCommandSpec().qualifiedName();
            String line = oneLine(e).replaceFirst("^Error: ", ""); // picocli's "Error: --a, --b are mutually exclusive"
            if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
                line += "; did you mean " + String.join(" or ", u.getSuggestions().subList(0, Math.min(3, u.getSuggestions().size()))) + "?";
            }
            cmd.getErr().println(name + ": " + line);
            cmd.getErr().println("Try '" + name + " --help' for the options.");
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
        cl.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            if (e instanceof UsageException) {
                cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + oneLine(e));
                cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for the options.");
                return 2;
            }
            cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + oneLine(e));
            if (Boolean.getBoolean("irtj.debug")) e.printStackTrace(cmd.getErr());
            return 1;
        });
        return cl;
    }
}
