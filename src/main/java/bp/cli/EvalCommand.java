package bp.cli;

import bp.data.Dataset;
import bp.io.ModelFile;
import bp.nn.Network;
import bp.train.Evaluation;
import bp.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluates a saved model: mean loss, accuracy and confusion matrix on a test set.",
        footer = {"", "Example:", "  bp eval --model fashion.safetensors --data fashion-mnist"})
final class EvalCommand implements Callable<Integer> {

    @Option(names = {"--model", "-m"}, required = true, paramLabel = "FILE", description = "A model written by bp train --out.")
    Path model;

    @Mixin
    DataOptions dataOptions;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Network net = ModelFile.load(model);
        Dataset test = TrainCommand.scaled(dataOptions.loadTest(TrainCommand.DEFAULT_DATA, net, modelData(model)),
                net.inputScaling());
        Evaluation e = Trainer.evaluate(net, test);
        out.printf(Locale.ROOT, "%s on %s: %d samples%n", net.describe(), test.name(), e.samples());
        out.printf(Locale.ROOT, "loss %.6f%n", e.loss());
        if (e.confusion() != null) {
            out.printf(Locale.ROOT, "accuracy %.2f%%   macro F1 %.4f%n", 100 * e.accuracy(), e.macroF1());
            printConfusion(out, e.confusion());
            out.println("class  precision  recall      F1  samples");
            for (int c = 0; c < e.confusion().length; c++) {
                long samples = java.util.Arrays.stream(e.confusion()[c]).sum();
                String name = test.classNames() != null ? test.classNames().get(c) : String.valueOf(c);
                out.printf(Locale.ROOT, "%5s  %9.4f  %6.4f  %6.4f  %7d%n", name, e.precision(c), e.recall(c), e.f1(c),
                        samples);
            }
        }
        if (!Double.isNaN(e.meanSquaredError())) {
            out.printf(Locale.ROOT, "MSE %.6f   MAE %.6f   R² %.4f%n", e.meanSquaredError(), e.meanAbsoluteError(), e.r2());
        }
        out.flush();
        return 0;
    }

    /** The data description a model file keeps (see {@link DataOptions#describe(Dataset)}); empty when it has none. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> modelData(Path model) {
        return ModelFile.trainingSettings(model).get(DataOptions.SPEC_KEY) instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private static void printConfusion(PrintWriter out, long[][] m) {
        out.println("confusion matrix (rows: true class, columns: predicted class)");
        int width = 5;
        for (long[] row : m) {
            for (long v : row) {
                width = Math.max(width, Long.toString(v).length() + 1);
            }
        }
        StringBuilder head = new StringBuilder(String.format("%6s", ""));
        for (int j = 0; j < m.length; j++) {
            head.append(String.format("%" + width + "d", j));
        }
        out.println(head);
        for (int i = 0; i < m.length; i++) {
            StringBuilder line = new StringBuilder(String.format("%6d", i));
            for (long v : m[i]) {
                line.append(String.format("%" + width + "d", v));
            }
            out.println(line);
        }
    }
}
