package bp.cli;

import bp.data.Csv;
import bp.io.AtomicFiles;
import bp.io.ModelFile;
import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Applies a saved model to the rows of a CSV file: just the model's inputs, or a file like its "
                + "training data (the label or target columns are left out, and accuracy or error is reported on "
                + "stderr).",
                "Writes one CSV row per input row: for a softmax model the predicted class (its name, when the "
                        + "labels were names) and the class probabilities, for a sigmoid/bce model the class and "
                        + "p(1), otherwise the outputs."},
        footer = {"", "Example:", "  bp predict --model digits.safetensors --input rows.csv --out predictions.csv"})
final class PredictCommand implements Callable<Integer> {

    @Option(names = {"--model", "-m"}, required = true, paramLabel = "FILE", description = "A model written by bp train --out.")
    Path model;

    @Option(names = {"--input", "-i"}, required = true, paramLabel = "FILE.csv", description = "Rows of features.")
    Path input;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE.csv", description = "Where to write (default: standard output).")
    Path output;

    @Option(names = "--output", hidden = true)
    void outputAlias(Path file) {
        output = file;
    }

    @Mixin
    CsvOptions csv = new CsvOptions();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** What the rows are: a softmax model's classes, a binary (sigmoid/bce) model's classes, or plain outputs. */
    private enum Kind { CLASSES, BINARY, OUTPUTS }

    @Override
    public Integer call() throws IOException {
        TrainCommand.checkOutputFile("--out", output);
        Network net = ModelFile.load(model);
        Map<String, Object> described = EvalCommand.modelData(model);
        int targets = described.get("targets") instanceof Number n ? n.intValue() : 0;
        Csv.Inputs in = Csv.readInputs(input, csv.format(described), net.inputs(), targets);
        float[] y = net.predict(in.features(), in.rows());
        Activation last = net.activation(net.layerCount() - 1);
        Kind kind = last == Activation.SOFTMAX ? Kind.CLASSES
                : last == Activation.SIGMOID && net.loss() == Loss.BINARY_CROSS_ENTROPY && net.outputs() == 1
                ? Kind.BINARY : Kind.OUTPUTS;
        List<String> names = DataOptions.classNames(described);
        if (output == null) {
            PrintWriter out = spec.commandLine().getOut();
            write(out, net, y, in.rows(), kind, names);
            out.flush();
        } else {
            AtomicFiles.write(output, (OutputStream os) -> {
                Writer w = new OutputStreamWriter(os, StandardCharsets.UTF_8);
                write(w, net, y, in.rows(), kind, names);
                w.flush();
            });
        }
        if (in.labels() != null) {
            report(net, y, in, kind, names);
        }
        return 0;
    }

    /** The predicted class of row {@code r}: the most probable, or p ≥ ½ for a binary model. */
    private static int predictedClass(float[] y, int r, int k, Kind kind) {
        if (kind == Kind.BINARY) {
            return y[r] >= 0.5f ? 1 : 0;
        }
        int best = 0;
        for (int j = 1; j < k; j++) {
            if (y[r * k + j] > y[r * k + best]) {
                best = j;
            }
        }
        return best;
    }

    /** Whether a numeric label such as {@code 1} or {@code 1.0} names class {@code c}. */
    private static boolean isClass(String label, int c) {
        try {
            return Double.parseDouble(label) == c;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String className(int c, List<String> names) {
        return names != null && c < names.size() ? names.get(c) : String.valueOf(c);
    }

    /** Accuracy (classes) or mean squared error (outputs) against the file's labels, on stderr. */
    private void report(Network net, float[] y, Csv.Inputs in, Kind kind, List<String> names) {
        PrintWriter err = spec.commandLine().getErr();
        int k = net.outputs();
        if (kind == Kind.OUTPUTS) {
            double sse = 0;
            for (int i = 0; i < y.length && i < in.labels().size(); i++) {
                double d = y[i] - Double.parseDouble(in.labels().get(i));
                sse += d * d;
            }
            err.printf(Locale.ROOT, "bp: MSE %.6f on %d rows of %s%n", sse / y.length, in.rows(), input.getFileName());
        } else {
            int correct = 0;
            for (int r = 0; r < in.rows(); r++) {
                int predicted = predictedClass(y, r, k, kind);
                correct += names != null ? (names.get(predicted).equals(in.labels().get(r)) ? 1 : 0)
                        : isClass(in.labels().get(r), predicted) ? 1 : 0;
            }
            err.printf(Locale.ROOT, "bp: accuracy %.2f%% (%d of %d rows of %s)%n", 100.0 * correct / in.rows(), correct,
                    in.rows(), input.getFileName());
        }
        err.flush();
    }

    private static void write(Writer w, Network net, float[] y, int rows, Kind kind, List<String> names)
            throws IOException {
        int k = net.outputs();
        StringBuilder sb = new StringBuilder();
        switch (kind) {
            case CLASSES -> {
                sb.append("class");
                for (int j = 0; j < k; j++) {
                    sb.append(",p").append(names == null ? "" : "_").append(className(j, names));
                }
            }
            case BINARY -> sb.append("class,p").append(names == null ? "" : "_").append(className(1, names));
            case OUTPUTS -> {
                for (int j = 0; j < k; j++) {
                    sb.append(j == 0 ? "" : ",").append("y").append(j);
                }
            }
        }
        w.write(sb.append('\n').toString());
        for (int r = 0; r < rows; r++) {
            sb.setLength(0);
            if (kind != Kind.OUTPUTS) {
                sb.append(className(predictedClass(y, r, k, kind), names)).append(',');
            }
            for (int j = 0; j < k; j++) {
                // Float.toString is the shortest text that reads back to the same float
                sb.append(j == 0 ? "" : ",").append(y[r * k + j]);
            }
            w.write(sb.append('\n').toString());
        }
    }
}
