package bp.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;

/**
 * The {@code bp} command. Exit status: 0 on success, 2 on a usage error, 1 on any other failure,
 * with a one-line message on stderr (and a stack trace with {@code --verbose}).
 */
@Command(name = "bp", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Feedforward neural networks trained by backpropagation, on every SIMD lane and core.",
        subcommands = {TrainCommand.class, EvalCommand.class, PredictCommand.class, ExportCommand.class,
                ImportCommand.class, InfoCommand.class,
                GradcheckCommand.class, BenchCommand.class, DemoCommand.class, PlotCommand.class, PlaygroundCommand.class,
                CommandLine.HelpCommand.class},
        footer = {"", "Example:", "  bp train --data digits --epochs 20"})
public final class Main implements Runnable {

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces with errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        // bp's few log messages (scalar kernels, a missing JVM flag) as one line each, not JUL's two
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%5$s%n");
        }
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns the exit status (used by tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return commandLine(out, err).execute(args);
    }

    /**
     * The system property through which the help of {@code bp train} lists the activations: picocli
     * interpolates system properties into descriptions, which must otherwise be constants.
     */
    static final String ACTIVATIONS_PROPERTY = "bp.help.activations";

    /**
     * The {@code bp} command line with its error handling, writing to the given streams; a
     * distribution may add commands to it (bp-spark adds {@code spark-train}).
     */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        System.setProperty(ACTIVATIONS_PROPERTY, bp.nn.Activation.usage());
        CommandLine cl = new CommandLine(new Main());
        withVersion(cl);
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("bp: " + ex.getMessage() + " (see '" + c.getCommandSpec().qualifiedName() + " --help')");
            c.getErr().flush();
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, c, parseResult) -> {
            boolean verbose = parseResult.hasMatchedOption("--verbose")
                    || parseResult.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--verbose"));
            if (ex instanceof UsageError) {
                c.getErr().println("bp: " + ex.getMessage() + " (see '" + c.getCommandSpec().qualifiedName() + " --help')");
                c.getErr().flush();
                return 2;
            }
            c.getErr().println("bp: " + message(ex));
            if (verbose) {
                ex.printStackTrace(c.getErr());
            }
            c.getErr().flush();
            return 1;
        });
        return cl;
    }

    /**
     * Makes {@code -V} print bp's version in every command of {@code cl}, not only in {@code bp}
     * itself; call it again after adding a command.
     *
     * @param cl the command line
     */
    public static void withVersion(CommandLine cl) {
        cl.getCommandSpec().versionProvider(new Version());
        cl.getSubcommands().values().forEach(Main::withVersion);
    }

    private static String message(Throwable ex) {
        if (ex instanceof OutOfMemoryError) {
            return "out of memory: give the JVM more heap (e.g. JAVA_TOOL_OPTIONS=-Xmx8g) or use a smaller --batch";
        }
        String m = ex.getMessage();
        return m == null || m.isBlank() ? ex.getClass().getSimpleName() : m;
    }

    /** A mistake in the command line found after parsing: exits with status 2 like picocli's own. */
    public static final class UsageError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        /**
         * A usage error.
         *
         * @param message what is wrong, printed after "bp: "
         */
        public UsageError(String message) {
            super(message);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"bp " + (v == null ? "(development build)" : v)};
        }
    }
}
