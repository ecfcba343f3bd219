package bp.io;

import bp.nn.Activation;
import bp.nn.InputScaling;
import bp.nn.LayerActivation;
import bp.nn.Loss;
import bp.nn.Network;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Models as <a href="https://onnx.ai">ONNX</a> files, for ONNX Runtime and every server that
 * runs them, and from PyTorch's {@code torch.onnx.export}.
 *
 * <p>An export is IR version 8, opset 17 (accepted by current ONNX Runtime and by older
 * checkers): a float input {@code input [N, inputs]} and output {@code output [N, outputs]} with
 * N dynamic; each layer is a {@code Gemm} with {@code transB=1} over the {@code [rows, in]}
 * weights {@code layers.i.weight} and the bias {@code layers.i.bias}, then its activation:
 * {@code Relu}, {@code Sigmoid}, {@code Tanh}, {@code LeakyRelu(alpha)}, {@code Elu(alpha)},
 * {@code PRelu} over {@code layers.i.slope}, {@code Softplus}, {@code Softmax(axis=1)}, nothing
 * for identity, and for maxout {@code Reshape [-1, k, units]} then {@code ReduceMax(axes=[1],
 * keepdims=0)}. A network with an {@link InputScaling} starts with {@code Sub} of
 * {@code input.offset} and {@code Div} by {@code input.divisor}. The {@code bp.spec} document of
 * the model file goes into {@code metadata_props}.
 *
 * <p>{@link #load} reads those files back to the same bits, and the chains of dense layers that
 * PyTorch exports for {@code nn.Sequential} of {@code Linear} and those activations, in the
 * {@code Gemm} form or the {@code MatMul} + {@code Add} form, with or without a leading
 * {@code Flatten}. Anything else is refused with one line that names the node and its op.
 */
public final class OnnxFile {

    static final long IR_VERSION = 8;
    static final long OPSET = 17;
    static final String INPUT = "input";
    static final String OUTPUT = "output";

    private OnnxFile() {
    }

    /**
     * Writes {@code net} atomically, with no training settings.
     *
     * @param net the network
     * @param file the ONNX file to write
     */
    public static void save(Network net, Path file) {
        save(net, file, Map.of());
    }

    /**
     * Writes {@code net} atomically; {@code training} (may be empty) is stored in {@code bp.spec} as is.
     *
     * @param net the network
     * @param file the ONNX file to write
     * @param training the training settings to keep in the metadata
     */
    public static void save(Network net, Path file, Map<String, Object> training) {
        byte[] bytes = encode(net, training);
        AtomicFiles.write(file, out -> out.write(bytes));
    }

    /**
     * Reads a model: bp's own export with its loss, or another producer's chain of dense layers
     * with the loss that fits its output (ce after softmax, bce after sigmoid, mse otherwise).
     *
     * @param file an ONNX file
     * @return the network
     */
    public static Network load(Path file) {
        return load(file, null);
    }

    /**
     * As {@link #load(Path)}, with the loss to train it with ({@code null}: as stored, or as fits the output).
     *
     * @param file an ONNX file
     * @param loss the loss to train it with from now on
     * @return the network
     */
    public static Network load(Path file, Loss loss) {
        return OnnxImport.read(file, parse(file)).network(loss);
    }

    /**
     * The training settings stored in a bp export; for another producer's model, where it came
     * from ({@code imported_from}, {@code producer}).
     *
     * @param file an ONNX file
     * @return the settings, empty when the file has none
     */
    public static Map<String, Object> trainingSettings(Path file) {
        return OnnxImport.read(file, parse(file)).training();
    }

    private static Onnx.Model parse(Path file) {
        try {
            return Onnx.parseModel(ModelFile.readAll(file));
        } catch (Protobuf.Malformed e) {
            throw new ModelFileException(file + ": not a valid ONNX file: " + e.getMessage());
        }
    }

    static byte[] encode(Network net, Map<String, Object> training) {
        float[] params = net.parameters();
        List<Protobuf.Writer> nodes = new ArrayList<>();
        List<Protobuf.Writer> initializers = new ArrayList<>();
        String x = INPUT;
        InputScaling scaling = net.inputScaling();
        if (scaling != null) {
            long[] dims = {net.inputs()};
            initializers.add(Onnx.floatTensor(ModelFile.SCALING_OFFSET, dims, scaling.offset(), 0, net.inputs()));
            initializers.add(Onnx.floatTensor(ModelFile.SCALING_DIVISOR, dims, scaling.divisor(), 0, net.inputs()));
            nodes.add(Onnx.node("input.sub", "Sub", List.of(x, ModelFile.SCALING_OFFSET), "input.centered"));
            nodes.add(Onnx.node("input.div", "Div", List.of("input.centered", ModelFile.SCALING_DIVISOR), "input.scaled"));
            x = "input.scaled";
        }
        int last = net.layerCount() - 1;
        for (int l = 0; l <= last; l++) {
            String layer = "layers." + l;
            for (Network.Tensor t : net.tensors(l)) {
                long[] dims = t.shape().stream().mapToLong(Integer::longValue).toArray();
                initializers.add(Onnx.floatTensor(layer + "." + t.name(), dims, params, t.offset(), t.length()));
            }
            boolean identity = net.activation(l) == Activation.IDENTITY;
            String z = identity && l == last ? OUTPUT : layer + ".z";
            nodes.add(Onnx.node(layer + ".gemm", "Gemm", List.of(x, layer + ".weight", layer + ".bias"), z,
                    Onnx.intAttribute("transB", 1)));
            x = identity ? z : activation(layer, net.layerActivation(l), net.size(l + 1), z,
                    l == last ? OUTPUT : layer + ".a", nodes, initializers);
        }
        Protobuf.Writer graph = Onnx.graph("bp", nodes, initializers,
                List.of(Onnx.valueInfo(INPUT, "N", net.inputs())), List.of(Onnx.valueInfo(OUTPUT, "N", net.outputs())));
        String version = OnnxFile.class.getPackage().getImplementationVersion();
        return Onnx.model(IR_VERSION, OPSET, "bp", version == null ? "development build" : version, graph,
                Map.of(ModelFile.SPEC_KEY, ModelFile.specJson(net, training))).toByteArray();
    }

    private static String onnxOp(LayerActivation act) {
        if (act.kind().onnxOp() == null) {
            throw new IllegalArgumentException(act.kind().label() + " has no ONNX operator");
        }
        return act.kind().onnxOp();
    }

    /** Adds the nodes of a layer's activation from {@code z} to {@code a}; returns {@code a}. */
    private static String activation(String layer, LayerActivation act, int units, String z, String a,
                                     List<Protobuf.Writer> nodes, List<Protobuf.Writer> initializers) {
        String name = layer + "." + act.kind().label();
        Protobuf.Writer node = switch (act.kind()) {
            case PRELU -> Onnx.node(name, "PRelu", List.of(z, layer + ".slope"), a);
            case SOFTMAX -> Onnx.node(name, "Softmax", List.of(z), a, Onnx.intAttribute("axis", 1));
            case MAXOUT -> {
                initializers.add(Onnx.int64Tensor(layer + ".pieces_shape", -1, act.pieces(), units));
                nodes.add(Onnx.node(layer + ".pieces", "Reshape", List.of(z, layer + ".pieces_shape"), layer + ".pieces"));
                yield Onnx.node(name, "ReduceMax", List.of(layer + ".pieces"), a, Onnx.intsAttribute("axes", 1),
                        Onnx.intAttribute("keepdims", 0));
            }
            case IDENTITY -> throw new IllegalArgumentException("identity has no node");
            // one node of the activation's own operator, α as its alpha attribute
            default -> act.kind().hasAlpha()
                    ? Onnx.node(name, onnxOp(act), List.of(z), a, Onnx.floatAttribute("alpha", act.alpha()))
                    : Onnx.node(name, onnxOp(act), List.of(z), a);
        };
        nodes.add(node);
        return a;
    }
}
