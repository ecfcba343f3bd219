package bp.cli;

import bp.io.ModelFile;
import bp.io.OnnxFile;
import bp.nn.Loss;
import bp.nn.Network;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "import", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Reads an ONNX model into a bp model file: bp's own exports, and the chains of dense layers "
                + "that torch.onnx.export writes for nn.Sequential of Linear and ReLU, Sigmoid, Tanh, LeakyReLU, ELU, "
                + "PReLU, Softplus, Softmax (Gemm or MatMul+Add, with or without a leading Flatten).",
                "Anything else is refused with the node that does not fit; nothing is written then."},
        footer = {"", "Example:", "  bp import --onnx model.onnx --out model.safetensors",
                "  bp train --data digits --init-from model.safetensors --epochs 5"})
final class ImportCommand implements Callable<Integer> {

    @Option(names = "--onnx", required = true, paramLabel = "FILE.onnx", description = "The ONNX file to read.")
    Path onnx;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "The bp model file (safetensors) to write.")
    Path out;

    @Option(names = "--loss", paramLabel = "NAME", description = "The loss to train it with later: sse, mse, mae, ce or bce (default: as "
            + "stored by bp; else ce after softmax, bce after sigmoid, mse otherwise).")
    String loss;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        TrainCommand.checkOutputFile("--out", out);
        Loss lossFn;
        try {
            lossFn = loss == null ? null : Loss.parse(loss);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
        Network net = OnnxFile.load(onnx, lossFn);
        ModelFile.save(net, out, OnnxFile.trainingSettings(onnx));
        PrintWriter w = spec.commandLine().getOut();
        w.println("wrote " + out + " (" + net.describe() + ")");
        w.flush();
        return 0;
    }
}
