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

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (also used by tests). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Irt());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            if (e instanceof UsageException) {
                cmd.getErr().println("irt " + cmd.getCommandName() + ": " + e.getMessage());
                cmd.getErr().println("Try 'irt " + cmd.getCommandName() + " --help' for the options.");
                return 2;
            }
            cmd.getErr().println("irt " + cmd.getCommandName() + ": " + e.getMessage());
            if (Boolean.getBoolean("irtj.debug")) e.printStackTrace(cmd.getErr());
            return 1;
        });
        return cl;
    }
}
