package bp.cli;

import bp.data.Csv;
import bp.io.AtomicFiles;
import bp.io.ModelFile;
import bp.nn.Activation;
import bp.nn.Network;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Applies a saved model to the rows of a CSV file (features only, as many as the model's inputs).",
                "Writes one CSV row per input row: for a softmax model the predicted class and the class "
                        + "probabilities, otherwise the outputs."},
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

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        TrainCommand.checkOutputFile("--out", output);
        Network net = ModelFile.load(model);
        float[] x = Csv.readFeatures(input, net.inputs());
        int rows = x.length / net.inputs();
        float[] y = net.predict(x, rows);
        boolean classes = net.activation(net.layerCount() - 1) == Activation.SOFTMAX;
        if (output == null) {
            PrintWriter out = spec.commandLine().getOut();
            write(out, net, y, rows, classes);
            out.flush();
        } else {
            AtomicFiles.write(output, (OutputStream os) -> {
                Writer w = new OutputStreamWriter(os, StandardCharsets.UTF_8);
                write(w, net, y, rows, classes);
                w.flush();
            });
        }
        return 0;
    }

    private static void write(Writer w, Network net, float[] y, int rows, boolean classes) throws IOException {
        int k = net.outputs();
        StringBuilder sb = new StringBuilder();
        if (classes) {
            sb.append("class");
            for (int j = 0; j < k; j++) {
                sb.append(",p").append(j);
            }
        } else {
            for (int j = 0; j < k; j++) {
                sb.append(j == 0 ? "" : ",").append("y").append(j);
            }
        }
        w.write(sb.append('\n').toString());
        for (int r = 0; r < rows; r++) {
            sb.setLength(0);
            if (classes) {
                int best = 0;
                for (int j = 1; j < k; j++) {
                    if (y[r * k + j] > y[r * k + best]) {
                        best = j;
                    }
                }
                sb.append(best).append(',');
            }
            for (int j = 0; j < k; j++) {
                // Float.toString is the shortest text that reads back to the same float
                sb.append(j == 0 ? "" : ",").append(y[r * k + j]);
            }
            w.write(sb.append('\n').toString());
        }
    }
}
