package bp.cli;

import bp.io.ModelFile;
import bp.kernel.KernelSelection;
import bp.kernel.Kernels;
import bp.nn.Network;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.concurrent.Callable;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Prints the JDK, the SIMD kernels in use and the cores; or, with --model, a model's architecture.",
        footer = {"", "Examples:", "  bp info", "  bp info --model fashion.safetensors"})
final class InfoCommand implements Callable<Integer> {

    @Option(names = {"--model", "-m"}, paramLabel = "FILE", description = "A model file to describe.")
    Path model;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (model != null) {
            Network net = ModelFile.load(model);
            out.println("model       " + model);
            out.println("layers      " + net.describe());
            int[] sizes = net.sizes();
            for (int l = 0; l < net.layerCount(); l++) {
                out.printf("  layer %d   %d -> %d  %s  (%s)%n", l, sizes[l], sizes[l + 1], net.layerActivation(l).label(),
                        net.tensors(l).stream().map(t -> t.name() + " " + t.shape()).collect(Collectors.joining(", ")));
            }
            out.println("loss        " + net.loss().label());
            for (Map.Entry<String, Object> e : ModelFile.trainingSettings(model).entrySet()) {
                out.printf("%-11s %s%n", e.getKey(), e.getValue());
            }
        } else {
            Runtime rt = Runtime.getRuntime();
            out.println("java        " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor")
                    + ", " + System.getProperty("java.home") + ")");
            out.println("os          " + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
            out.println("cores       " + rt.availableProcessors());
            out.println("max heap    " + rt.maxMemory() / (1 << 20) + " MiB");
            out.println("kernels     " + Kernels.get().description());
            out.println("why         " + KernelSelection.reason());
            out.println("species     " + KernelSelection.preferredSpecies());
        }
        out.flush();
        return 0;
    }
}
