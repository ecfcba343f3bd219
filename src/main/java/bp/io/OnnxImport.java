package bp.io;

import bp.nn.Activation;
import bp.nn.InputScaling;
import bp.nn.LayerActivation;
import bp.nn.Loss;
import bp.nn.Network;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads an ONNX graph as a chain of dense layers: walks the nodes in order, each taking the
 * previous one's output, and refuses the first node that does not fit, naming it.
 */
final class OnnxImport {

    /** The activations of one ONNX node that the switch below has no case of its own for, by operator. */
    private static final Map<String, Activation> ONE_NODE_ACTIVATIONS = Arrays.stream(Activation.values())
            .filter(a -> a.onnxOp() != null && a != Activation.PRELU && a != Activation.SOFTMAX)
            .collect(java.util.stream.Collectors.toMap(Activation::onnxOp, a -> a, (x, y) -> x, LinkedHashMap::new));
    private static final String SUPPORTED = "bp imports chains of dense layers: Gemm, or MatMul then Add, each "
            + "followed by " + String.join(", ", ONE_NODE_ACTIVATIONS.keySet()) + ", PRelu, Softmax, "
            + "Reshape+ReduceMax (maxout) or nothing, after an optional leading Flatten and an input scaling (Sub, Div)";
    private static final Set<String> DOMAINS = Set.of("", "ai.onnx");

    /** One dense layer: weights {@code [rows, in]}, bias {@code [rows]}, and slopes for PReLU. */
    private static final class Layer {
        final Onnx.Node node;
        final int rows;
        final int in;
        final float[] weight;
        float[] bias;
        float[] slopes;
        LayerActivation activation;

        Layer(Onnx.Node node, int rows, int in, float[] weight, float[] bias) {
            this.node = node;
            this.rows = rows;
            this.in = in;
            this.weight = weight;
            this.bias = bias;
        }

        int units() {
            return activation == null ? rows : rows / activation.pieces();
        }
    }

    /** The layers read and what the file says about them. */
    record Result(Path file, int[] sizes, List<LayerActivation> activations, List<float[]> tensors, Loss storedLoss,
                  InputScaling scaling, Map<String, Object> training) {

        Network network(Loss loss) {
            Loss chosen = loss != null ? loss : storedLoss != null ? storedLoss : fitting(activations.get(activations.size() - 1));
            Network net;
            try {
                net = Network.architecture(sizes, activations, chosen);
            } catch (IllegalArgumentException e) {
                throw new ModelFileException(file + ": " + e.getMessage(), e);
            }
            float[] params = net.parameters();
            int t = 0;
            for (int l = 0; l < net.layerCount(); l++) {
                for (Network.Tensor tensor : net.tensors(l)) {
                    System.arraycopy(tensors.get(t++), 0, params, tensor.offset(), tensor.length());
                }
            }
            net.parametersChanged();
            net.setInputScaling(scaling);
            return net;
        }

        private static Loss fitting(LayerActivation output) {
            return switch (output.kind()) {
                case SOFTMAX -> Loss.CROSS_ENTROPY;
                case SIGMOID -> Loss.BINARY_CROSS_ENTROPY;
                default -> Loss.MSE;
            };
        }
    }

    private final Path file;
    private final Onnx.Model model;
    private final Map<String, Onnx.Tensor> constants = new HashMap<>();
    private final List<Layer> layers = new ArrayList<>();
    private Layer open;
    private Onnx.Node flatten;
    private float[] offset;
    private float[] divisor;
    private long opset;

    private OnnxImport(Path file, Onnx.Model model) {
        this.file = file;
        this.model = model;
    }

    static Result read(Path file, Onnx.Model model) {
        return new OnnxImport(file, model).read();
    }

    private Result read() {
        Onnx.Graph graph = model.graph();
        if (graph == null) {
            throw fail("has no graph (not an ONNX model?)");
        }
        Long version = model.opsets().getOrDefault("", model.opsets().get("ai.onnx"));
        if (version == null) {
            throw fail("imports no version of the standard ONNX operator set");
        }
        opset = version;
        constants.putAll(graph.initializers());
        Onnx.ValueInfo input = graphInput(graph);
        String current = input.name();
        List<Onnx.Node> nodes = graph.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            Onnx.Node n = nodes.get(i);
            if (!DOMAINS.contains(n.domain())) {
                throw refuse(n, "is from the operator domain '" + n.domain() + "'; " + SUPPORTED);
            }
            if (n.op().equals("Constant")) {
                constants.put(output(n), constantValue(n));
                continue;
            }
            output(n);
            switch (n.op()) {
                case "Flatten" -> flatten(n, current);
                case "Sub" -> scaleInput(n, current, true);
                case "Div" -> scaleInput(n, current, false);
                case "Gemm" -> gemm(n, current);
                case "MatMul" -> matMul(n, current);
                case "Add" -> add(n, current);
                case "PRelu" -> prelu(n, current);
                case "Softmax" -> softmax(n, current);
                case "Reshape" -> {
                    maxout(n, current, i + 1 < nodes.size() ? nodes.get(i + 1) : null);
                    n = nodes.get(++i);
                }
                case "Identity" -> takes(n, current, 0);
                default -> activate(n, current, elementwise(n));
            }
            current = output(n);
        }
        close();
        finish(graph, input, current);
        return result();
    }

    private Onnx.ValueInfo graphInput(Onnx.Graph graph) {
        List<Onnx.ValueInfo> inputs = graph.inputs().stream()
                .filter(v -> !graph.initializers().containsKey(v.name())).toList();
        if (inputs.size() != 1) {
            throw fail("the graph has " + inputs.size() + " inputs besides its weights " + names(inputs)
                    + "; bp imports networks with one input");
        }
        if (inputs.get(0).elemType() != Onnx.FLOAT) {
            throw fail("the graph input '" + inputs.get(0).name() + "' has element type " + inputs.get(0).elemType()
                    + ", expected 1 (float32)");
        }
        if (graph.outputs().size() != 1) {
            throw fail("the graph has " + graph.outputs().size() + " outputs " + names(graph.outputs())
                    + "; bp imports networks with one output");
        }
        return inputs.get(0);
    }

    private void flatten(Onnx.Node n, String current) {
        takes(n, current, 0);
        if (!layers.isEmpty() || open != null || flatten != null || offset != null || divisor != null) {
            throw refuse(n, "comes after the first layer or the input scaling; bp takes a Flatten only first");
        }
        long axis = intAttribute(n, "axis", 1);
        if (axis != 1) {
            throw refuse(n, "has axis " + axis + "; bp supports Flatten(axis=1), which keeps the batch dimension");
        }
        flatten = n;
    }

    /** {@code Sub} of an offset, then {@code Div} by a divisor, before the first layer: an input scaling. */
    private void scaleInput(Onnx.Node n, String current, boolean sub) {
        takes(n, current, 0);
        if (!layers.isEmpty() || open != null || (sub ? offset != null || divisor != null : divisor != null)) {
            throw refuse(n, "is not an input scaling (Sub then Div, before the first layer); " + SUPPORTED);
        }
        float[] v = floats(n, 1);
        if (sub) {
            offset = v;
        } else {
            divisor = v;
        }
    }

    private void gemm(Onnx.Node n, String current) {
        takes(n, current, 0);
        if (floatAttribute(n, "alpha", 1f) != 1f || floatAttribute(n, "beta", 1f) != 1f) {
            throw refuse(n, "has alpha or beta other than 1; bp supports Gemm as a dense layer, Y = X·Bᵀ + C");
        }
        if (intAttribute(n, "transA", 0) != 0) {
            throw refuse(n, "has transA=1; bp supports Gemm with the batch as the rows of its first input");
        }
        long[] dims = dims(n, 1, 2);
        float[] b = floats(n, 1);
        boolean transB = intAttribute(n, "transB", 0) != 0;
        int rows = (int) (transB ? dims[0] : dims[1]);
        int in = (int) (transB ? dims[1] : dims[0]);
        float[] weight = transB ? b : transpose(b, in, rows);
        float[] bias = n.inputs().size() > 2 && !n.inputs().get(2).isEmpty() ? bias(n, 2, rows) : new float[rows];
        startLayer(new Layer(n, rows, in, weight, bias));
    }

    private void matMul(Onnx.Node n, String current) {
        takes(n, current, 0);
        long[] dims = dims(n, 1, 2);
        startLayer(new Layer(n, (int) dims[1], (int) dims[0], transpose(floats(n, 1), (int) dims[0],
                (int) dims[1]), null));
    }

    private void add(Onnx.Node n, String current) {
        if (open == null || open.bias != null || n.inputs().size() != 2) {
            throw refuse(n, "does not add a bias to a MatMul; " + SUPPORTED);
        }
        int biasInput = n.inputs().get(0).equals(current) ? 1 : 0;
        takes(n, current, 1 - biasInput);
        open.bias = bias(n, biasInput, open.rows);
    }

    private void startLayer(Layer layer) {
        close();
        open = layer;
    }

    /** Ends the open layer: identity if no activation followed, a zero bias if a MatMul had no Add. */
    private void close() {
        if (open == null) {
            return;
        }
        if (open.bias == null) {
            open.bias = new float[open.rows];
        }
        if (open.activation == null) {
            open.activation = LayerActivation.of(Activation.IDENTITY);
        }
        layers.add(open);
        open = null;
    }

    private void activate(Onnx.Node n, String current, LayerActivation activation) {
        takes(n, current, 0);
        if (open == null || open.activation != null) {
            throw refuse(n, "does not follow a Gemm or MatMul; " + SUPPORTED);
        }
        open.activation = activation;
        close();
    }

    /** The activation whose operator n is, α from its alpha attribute (ONNX's default is bp's). */
    private LayerActivation elementwise(Onnx.Node n) {
        Activation kind = ONE_NODE_ACTIVATIONS.get(n.op());
        if (kind == null) {
            throw refuse(n, "is not supported; " + SUPPORTED);
        }
        return parametric(n, kind, kind.hasAlpha() ? floatAttribute(n, "alpha", kind.defaultAlpha()) : 0f);
    }

    private LayerActivation parametric(Onnx.Node n, Activation kind, float alpha) {
        try {
            return new LayerActivation(kind, alpha);
        } catch (IllegalArgumentException e) {
            throw refuse(n, e.getMessage());
        }
    }

    private void prelu(Onnx.Node n, String current) {
        if (open == null || open.activation != null) {
            throw refuse(n, "does not follow a Gemm or MatMul; " + SUPPORTED);
        }
        float[] slope = floats(n, 1);
        if (slope.length != open.rows && slope.length != 1) {
            throw refuse(n, "has " + slope.length + " slopes for " + open.rows + " units; bp needs one per unit or one "
                    + "for all");
        }
        float[] slopes = new float[open.rows];
        for (int j = 0; j < slopes.length; j++) {
            slopes[j] = slope[slope.length == 1 ? 0 : j];
        }
        open.slopes = slopes;
        activate(n, current, LayerActivation.of(Activation.PRELU));
    }

    private void softmax(Onnx.Node n, String current) {
        long axis = intAttribute(n, "axis", opset >= 13 ? -1 : 1);
        if (axis != 1 && axis != -1) {
            throw refuse(n, "has axis " + axis + "; bp's softmax runs over the units of a row (axis 1)");
        }
        activate(n, current, LayerActivation.of(Activation.SOFTMAX));
    }

    /** {@code Reshape [-1, k, units]} then {@code ReduceMax(axes=[1], keepdims=0)}: maxout with k pieces. */
    private void maxout(Onnx.Node reshape, String current, Onnx.Node reduce) {
        takes(reshape, current, 0);
        if (open == null || open.activation != null) {
            throw refuse(reshape, "does not follow a Gemm or MatMul; " + SUPPORTED);
        }
        long[] shape = longs(reshape, 1);
        if (shape.length != 3 || (shape[0] != -1 && shape[0] != 0) || shape[1] < 2
                || shape[1] > LayerActivation.MAX_PIECES || shape[2] < 1 || shape[2] > open.rows
                || shape[1] * shape[2] != open.rows) {
            throw refuse(reshape, "has shape " + Arrays.toString(shape) + "; bp supports Reshape only as maxout's "
                    + "[-1, k, units] with k·units = the " + open.rows + " rows of the layer before");
        }
        if (reduce == null || !reduce.op().equals("ReduceMax")) {
            throw refuse(reshape, "is not followed by ReduceMax; bp supports Reshape only as maxout's [-1, k, units] "
                    + "then ReduceMax(axes=[1], keepdims=0)");
        }
        takes(reduce, output(reshape), 0);
        long[] axes = reduce.inputs().size() > 1 ? longs(reduce, 1) : reduce.attributes().containsKey("axes")
                ? reduce.attributes().get("axes").ints() : new long[0];
        if (!Arrays.equals(axes, new long[] {1}) || intAttribute(reduce, "keepdims", 1) != 0) {
            throw refuse(reduce, "reduces axes " + Arrays.toString(axes) + " with keepdims "
                    + intAttribute(reduce, "keepdims", 1) + "; bp's maxout is ReduceMax(axes=[1], keepdims=0)");
        }
        open.activation = parametric(reduce, Activation.MAXOUT, shape[1]);
        close();
    }

    private void finish(Onnx.Graph graph, Onnx.ValueInfo input, String current) {
        if (layers.isEmpty()) {
            throw fail("the graph has no dense layer; " + SUPPORTED);
        }
        String output = graph.outputs().get(0).name();
        if (!current.equals(output)) {
            throw fail("the chain of layers ends in '" + current + "' but the graph output is '" + output + "'; "
                    + SUPPORTED);
        }
        for (int l = 1; l < layers.size(); l++) {
            if (layers.get(l).in != layers.get(l - 1).units()) {
                throw refuse(layers.get(l).node, "takes " + layers.get(l).in + " inputs but the layer before gives "
                        + layers.get(l - 1).units());
            }
        }
        List<Object> dims = input.dims();
        List<Object> features = dims.isEmpty() ? dims : dims.subList(1, dims.size());
        long width = 1; // -1 when not all known
        for (Object d : features) {
            width = d instanceof Long w && w > 0 && width > 0 ? Math.min(width * Math.min(w, 1L << 31), 1L << 40) : -1;
        }
        boolean shapeFits = dims.isEmpty() || (flatten != null || features.size() == 1)
                && (width < 0 || width == layers.get(0).in);
        if (!shapeFits) {
            throw fail("the graph input '" + input.name() + "' has shape " + dims + ", but the first layer takes "
                    + layers.get(0).in + " features" + (flatten == null ? " per row (add a Flatten?)" : ""));
        }
    }

    private Result result() {
        int[] sizes = new int[layers.size() + 1];
        sizes[0] = layers.get(0).in;
        List<LayerActivation> activations = new ArrayList<>();
        List<float[]> tensors = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            sizes[l + 1] = layer.units();
            activations.add(layer.activation);
            tensors.add(layer.weight);
            tensors.add(layer.bias);
            if (layer.slopes != null) {
                tensors.add(layer.slopes);
            }
        }
        String specText = model.metadata().get(ModelFile.SPEC_KEY);
        if (specText == null) {
            Map<String, Object> origin = new LinkedHashMap<>();
            origin.put("imported_from", String.valueOf(file.getFileName()));
            origin.put("producer", model.producer());
            return new Result(file, sizes, activations, tensors, null, scaling("affine", sizes[0]), origin);
        }
        ModelFile.Spec spec = ModelFile.Spec.parse(file, specText);
        if ((spec.inputScaling() != null) != (offset != null || divisor != null)) {
            throw fail("the graph " + (spec.inputScaling() != null ? "does not scale" : "scales") + " its input but its "
                    + "bp.spec says " + (spec.inputScaling() != null ? spec.inputScaling() + " input scaling" : "none"));
        }
        List<String> read = activations.stream().map(a -> a.kind() == Activation.PRELU ? "prelu" : a.label()).toList();
        List<String> stored = spec.activations().stream().map(a -> a.kind() == Activation.PRELU ? "prelu" : a.label())
                .toList();
        if (!Arrays.equals(sizes, spec.sizes()) || !read.equals(stored)) {
            throw fail("the graph computes " + Arrays.toString(sizes) + " " + read + " but its bp.spec says "
                    + Arrays.toString(spec.sizes()) + " " + stored);
        }
        // The spec keeps what the graph cannot: PReLU's initial slope, the loss, the training settings.
        return new Result(file, sizes, spec.activations(), tensors, spec.loss(),
                scaling(spec.inputScaling(), sizes[0]), spec.training());
    }

    /** The input scaling of the Sub and Div read, one value per input (a single value is shared), or {@code null}. */
    private InputScaling scaling(String kind, int inputs) {
        if (offset == null && divisor == null) {
            return null;
        }
        float[] o = perInput(offset, 0f, inputs, "Sub");
        float[] d = perInput(divisor, 1f, inputs, "Div");
        try {
            return new InputScaling(kind, o, d);
        } catch (IllegalArgumentException e) {
            throw fail(e.getMessage());
        }
    }

    private float[] perInput(float[] v, float absent, int inputs, String op) {
        float[] out = new float[inputs];
        if (v == null || v.length == 1) {
            Arrays.fill(out, v == null ? absent : v[0]);
            return out;
        }
        if (v.length != inputs) {
            throw fail("the input scaling's " + op + " has " + v.length + " values for " + inputs + " inputs");
        }
        return v;
    }

    // ---- node inputs and attributes ----------------------------------------------------------

    private String output(Onnx.Node n) {
        if (n.outputs().size() != 1) {
            throw refuse(n, "has " + n.outputs().size() + " outputs; " + SUPPORTED);
        }
        return n.outputs().get(0);
    }

    /** Checks that input {@code index} of {@code n} is the output of the node before it. */
    private void takes(Onnx.Node n, String current, int index) {
        if (n.inputs().size() <= index || !n.inputs().get(index).equals(current)) {
            throw refuse(n, "does not take '" + current + "', the output of the node before it, as input " + index
                    + "; " + SUPPORTED);
        }
    }

    private Onnx.Tensor constant(Onnx.Node n, int index) {
        Onnx.Tensor t = n.inputs().size() > index ? constants.get(n.inputs().get(index)) : null;
        if (t == null) {
            throw refuse(n, "input " + index + " is not stored in the file (an initializer or a Constant); "
                    + "bp needs its weights and shapes as constants");
        }
        if (t.external()) {
            throw refuse(n, "tensor '" + t.name() + "' is stored as external data; bp reads self-contained .onnx "
                    + "files (onnx.save_model(m, path, save_as_external_data=False))");
        }
        return t;
    }

    private long[] dims(Onnx.Node n, int index, int rank) {
        long[] dims = constant(n, index).dims();
        if (dims.length != rank || Arrays.stream(dims).anyMatch(d -> d < 1 || d > 1 << 24)) {
            throw refuse(n, "input " + index + " has shape " + Arrays.toString(dims) + ", expected " + rank
                    + " dimensions of 1.." + (1 << 24));
        }
        return dims;
    }

    private float[] floats(Onnx.Node n, int index) {
        Onnx.Tensor t = constant(n, index);
        if (t.dataType() != Onnx.FLOAT) {
            throw refuse(n, "tensor '" + t.name() + "' has data type " + t.dataType() + "; bp reads float32 (1) weights");
        }
        int count = checkedCount(n, t, 4, t.floatData().length);
        if (t.raw() == null) {
            return t.floatData();
        }
        float[] v = new float[count];
        t.raw().littleEndian().asFloatBuffer().get(v);
        return v;
    }

    private long[] longs(Onnx.Node n, int index) {
        Onnx.Tensor t = constant(n, index);
        if (t.dataType() != Onnx.INT64) {
            throw refuse(n, "tensor '" + t.name() + "' has data type " + t.dataType() + ", expected int64 (7)");
        }
        int count = checkedCount(n, t, 8, t.int64Data().length);
        if (t.raw() == null) {
            return t.int64Data();
        }
        long[] v = new long[count];
        t.raw().littleEndian().asLongBuffer().get(v);
        return v;
    }

    private float[] bias(Onnx.Node n, int index, int rows) {
        float[] b = floats(n, index);
        if (b.length == rows) {
            return b;
        }
        if (b.length == 1) {
            float[] all = new float[rows];
            Arrays.fill(all, b[0]);
            return all;
        }
        throw refuse(n, "has a bias of " + b.length + " values for " + rows + " units");
    }

    /**
     * The number of values {@code t}'s shape holds, checked against the data that is really
     * there: {@code raw_data} of {@code bytesPerValue} each, or {@code typedValues} in the typed field.
     */
    private int checkedCount(Onnx.Node n, Onnx.Tensor t, int bytesPerValue, int typedValues) {
        long count = 1;
        for (long d : t.dims()) {
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw refuse(n, "tensor '" + t.name() + "' has shape " + Arrays.toString(t.dims()));
            }
            count *= d;
            if (count > Integer.MAX_VALUE - 16) {
                throw refuse(n, "tensor '" + t.name() + "' of shape " + Arrays.toString(t.dims())
                        + " is larger than bp reads (2^31 values)");
            }
        }
        if (t.raw() != null && t.raw().length() != bytesPerValue * count) {
            throw refuse(n, "tensor '" + t.name() + "' has " + t.raw().length() + " bytes of data, expected "
                    + bytesPerValue * count + " for its shape " + Arrays.toString(t.dims()));
        }
        if (t.raw() == null && typedValues != count) {
            throw refuse(n, "tensor '" + t.name() + "' holds " + typedValues + " values for its shape "
                    + Arrays.toString(t.dims()) + " of " + count);
        }
        return (int) count;
    }

    private Onnx.Tensor constantValue(Onnx.Node n) {
        Onnx.Attribute value = n.attributes().get("value");
        if (value == null || value.t() == null) {
            throw refuse(n, "has no tensor 'value'; bp reads Constant nodes that hold a tensor");
        }
        return value.t();
    }

    private long intAttribute(Onnx.Node n, String name, long otherwise) {
        Onnx.Attribute a = n.attributes().get(name);
        if (a == null) {
            return otherwise;
        }
        if (a.type() != Onnx.ATTR_INT && a.type() != 0) {
            throw refuse(n, "attribute '" + name + "' has type " + a.type() + ", expected an integer (2)");
        }
        return a.i();
    }

    private float floatAttribute(Onnx.Node n, String name, float otherwise) {
        Onnx.Attribute a = n.attributes().get(name);
        if (a == null) {
            return otherwise;
        }
        if (a.type() != Onnx.ATTR_FLOAT && a.type() != 0) {
            throw refuse(n, "attribute '" + name + "' has type " + a.type() + ", expected a float (1)");
        }
        return a.f();
    }

    private static float[] transpose(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = m[r * cols + c];
            }
        }
        return t;
    }

    private static String name(Onnx.Node n) {
        return n.name().isEmpty() ? String.join(",", n.outputs()) : n.name();
    }

    private static List<String> names(List<Onnx.ValueInfo> values) {
        return values.stream().map(Onnx.ValueInfo::name).toList();
    }

    private ModelFileException refuse(Onnx.Node n, String what) {
        return fail("node '" + name(n) + "' (" + n.op() + "): " + what);
    }

    private ModelFileException fail(String what) {
        return new ModelFileException(file + ": " + what);
    }
}
