package bp.cli;

import bp.io.ModelFile;
import bp.io.OnnxFile;
import bp.nn.Network;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Writes a bp model as an ONNX file (IR 8, opset 17) for ONNX Runtime and other servers.",
                "Input 'input' [N, inputs], output 'output' [N, outputs]; the bp.spec document goes into the "
                        + "metadata, so bp import gives back the same model, bit for bit."},
        footer = {"", "Example:", "  bp export --model digits.safetensors --out digits.onnx"})
final class ExportCommand implements Callable<Integer> {

    @Option(names = {"--model", "-m"}, required = true, paramLabel = "FILE", description = "A model written by bp train --out.")
    Path model;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE.onnx", description = "The ONNX file to write (required).")
    Path onnx;

    @Option(names = "--onnx", hidden = true)
    void onnxAlias(Path file) {
        onnx = file;
    }

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (onnx == null) {
            throw new Main.UsageError("Missing required option: '--out=FILE.onnx'");
        }
        TrainCommand.checkOutputFile("--out", onnx);
        Network net = ModelFile.load(model);
        OnnxFile.save(net, onnx, ModelFile.trainingSettings(model));
        PrintWriter out = spec.commandLine().getOut();
        out.println("wrote " + onnx + " (" + net.describe() + ")");
        out.flush();
        return 0;
    }
}
