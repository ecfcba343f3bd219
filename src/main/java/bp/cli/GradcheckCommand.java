package bp.cli;

import bp.nn.LayerActivation;
import bp.nn.GradientCheck;
import bp.nn.Initializer;
import bp.nn.Loss;
import bp.nn.Network;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "gradcheck", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Checks backpropagation against central finite differences on random data.",
                "Prints the largest component error of the double-precision reference against finite differences "
                        + "(must be < 1e-6) and of the float32 engine against the reference (must be < 1e-3); "
                        + "exits 1 when either is exceeded."},
        footer = {"", "Example:", "  bp gradcheck --layers 4,6,5,3 --activation tanh --loss ce",
                "  bp gradcheck --layers 4,6:prelu,5:maxout:3,3 --output-activation sigmoid \\",
                "      --loss bce"})
final class GradcheckCommand implements Callable<Integer> {

    static final double REFERENCE_TOLERANCE = 1e-6;
    static final double ENGINE_TOLERANCE = 1e-3;
    static final int MAX_PARAMETERS = 20_000;

    @Option(names = "--layers", paramLabel = "IN,H1,...,OUT", defaultValue = "4,6,5,3", description = "Layer widths; a layer may name its "
            + "activation, e.g. 4,6:prelu,5:maxout:3,3 (default: ${DEFAULT-VALUE}).")
    String layers;

    @Option(names = "--activation", paramLabel = "NAME", defaultValue = "tanh", description = "Hidden activation (default: ${DEFAULT-VALUE}).")
    String activation;

    @Option(names = "--output-activation", paramLabel = "NAME", defaultValue = "softmax",
            description = "Output activation (default: ${DEFAULT-VALUE}).")
    String output;

    @Option(names = "--output", hidden = true)
    void outputAlias(String name) {
        output = name;
    }

    @Option(names = "--loss", paramLabel = "NAME", description = "sse, mse, mae, ce (after softmax) or bce (after sigmoid) (default: ce after softmax, "
            + "else mse).")
    String loss;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "5", description = "Random samples in the batch (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of weights and data (default: ${DEFAULT-VALUE}).")
    long seed;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (samples < 1) {
            throw new Main.UsageError("--samples must be at least 1");
        }
        int[] sizes = TrainCommand.parseWidths(layers);
        Network net;
        try {
            LayerActivation[] acts = TrainCommand.parseLayerActivations(layers, LayerActivation.parse(activation),
                    LayerActivation.parse(output));
            long count = Network.parameterCount(sizes, java.util.Arrays.asList(acts));
            if (count > MAX_PARAMETERS) {
                throw new Main.UsageError("--layers " + layers + ": " + count + " parameters; finite "
                        + "differences cost one pass per parameter, keep it under " + MAX_PARAMETERS);
            }
            Network.Builder b = Network.builder(sizes[0]).initializer(Initializer.PYTORCH_DEFAULT).seed(seed);
            for (int l = 1; l < sizes.length; l++) {
                b.dense(sizes[l], acts[l - 1]);
            }
            if (loss != null) {
                b.loss(Loss.parse(loss));
            }
            net = b.build();
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
        GradientCheck.Result r = GradientCheck.run(net, samples, seed);
        boolean ok = r.referenceVsFiniteDifferences() < REFERENCE_TOLERANCE && r.engineVsReference() < ENGINE_TOLERANCE;
        out.printf(Locale.ROOT, "%s, %d samples%n", net.describe(), samples);
        out.printf(Locale.ROOT, "reference (double) vs finite differences: max error %.3e (limit %.0e)%n",
                r.referenceVsFiniteDifferences(), REFERENCE_TOLERANCE);
        out.printf(Locale.ROOT, "engine (float32) vs reference:            max error %.3e (limit %.0e)%n",
                r.engineVsReference(), ENGINE_TOLERANCE);
        out.println(ok ? "gradients OK" : "GRADIENT CHECK FAILED");
        out.flush();
        return ok ? 0 : 1;
    }
}
