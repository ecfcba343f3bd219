package bp.cli;

import bp.playground.PlaygroundServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code bp playground}: the interactive page, served on the loopback address until interrupted. */
@Command(name = "playground", mixinStandardHelpOptions = true,
        description = {"Serves an interactive page on 127.0.0.1 where you watch a small network learn to separate "
                + "two classes of points on a plane, trained by bp's engine: the decision regions as a heat map, "
                + "the network graph with its weights, the error history and the weights table. Add points by "
                + "clicking, load XOR, AND, OR, circle, two spirals or the notes' worked example, and press Step "
                + "(one forward and backward pass, with its activations and deltas) or Train. Open the printed "
                + "address in a browser; Ctrl-C stops the server. Everything comes from the jar: it works offline."},
        footer = {"", "Examples:", "  bp playground", "  bp playground --port 9000"})
final class PlaygroundCommand implements Callable<Integer> {

    @Option(names = "--port", paramLabel = "N", defaultValue = "7070",
            description = "Port on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (port < 0 || port > 65535) {
            throw new Main.UsageError("--port " + port + ": expected 0..65535");
        }
        PlaygroundServer server;
        try {
            server = PlaygroundServer.start(port);
        } catch (BindException e) {
            throw new IOException("cannot listen on 127.0.0.1:" + port + " (" + e.getMessage()
                    + "): is another playground running? Try --port 0");
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("bp playground: open " + server.url() + " in a browser (Ctrl-C stops it)");
        out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }
}
