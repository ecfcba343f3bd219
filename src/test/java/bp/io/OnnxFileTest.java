package bp.io;

import bp.nn.Activation;
import bp.nn.LayerActivation;
import bp.nn.Loss;
import bp.nn.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ONNX files: bp's exports read back to the same bits, their graph is the one documented, the
 * graph forms PyTorch writes are read into the right weights, and everything else is refused with
 * one line naming the node. (tools/onnx-check runs the same files through ONNX Runtime and PyTorch.)
 */
class OnnxFileTest {

    static final List<String> ACTIVATIONS = List.of("sigmoid", "tanh", "relu", "leaky_relu:0.2", "elu:0.5", "prelu:0.1",
            "softplus", "identity", "maxout:3");

    @TempDir
    Path dir;

    static Network network(String hidden, String output, Loss loss) {
        Network net = Network.builder(6).dense(5, LayerActivation.parse(hidden)).dense(4, LayerActivation.parse(output))
                .loss(loss).seed(3).build();
        SplittableRandom rng = new SplittableRandom(hidden.hashCode());
        float[] p = net.parameters();
        for (int i = 0; i < p.length; i++) { // biases and PReLU slopes too, not just their initial values
            p[i] = (float) rng.nextDouble(-1, 1);
        }
        net.parametersChanged();
        return net;
    }

    static void assertSameBits(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), "parameter " + i);
        }
    }

    @Test
    void everyActivationReadsBackToTheSameBits() {
        for (String act : ACTIVATIONS) {
            for (String output : List.of("softmax", "sigmoid", "identity")) {
                Loss loss = output.equals("softmax") ? Loss.CROSS_ENTROPY : output.equals("sigmoid")
                        ? Loss.BINARY_CROSS_ENTROPY : Loss.MAE;
                Network net = network(act, output, loss);
                Path file = dir.resolve("m.onnx");
                OnnxFile.save(net, file, Map.of("optimizer", "adam", "epochs", 3));
                Network back = OnnxFile.load(file);
                assertEquals(net.describe(), back.describe(), act + " / " + output);
                assertSameBits(net.parameters(), back.parameters());
                assertEquals(Map.of("optimizer", "adam", "epochs", 3), OnnxFile.trainingSettings(file));
            }
        }
    }

    @Test
    void anInputScalingTravelsInBothFormats() throws IOException {
        Network net = network("tanh", "softmax", Loss.CROSS_ENTROPY);
        float[] rows = {1, 200, -3, 0.5f, 7, 1e4f, 2, 100, -1, 0.25f, 9, 2e4f};
        net.setInputScaling(bp.nn.InputScaling.fit("standard", rows, 2, 6));
        Path onnx = dir.resolve("scaled.onnx");
        OnnxFile.save(net, onnx);
        Onnx.Model m = Onnx.parseModel(Files.readAllBytes(onnx));
        assertEquals(List.of("Sub", "Div", "Gemm"), m.graph().nodes().stream().limit(3).map(Onnx.Node::op).toList());
        Network back = OnnxFile.load(onnx);
        assertEquals(net.inputScaling(), back.inputScaling());
        assertSameBits(net.predict(rows, 2), back.predict(rows, 2));
        Path safetensors = dir.resolve("scaled.safetensors");
        ModelFile.save(back, safetensors, Map.of());
        Network again = ModelFile.load(safetensors);
        assertEquals(net.inputScaling(), again.inputScaling());
        assertSameBits(net.predict(rows, 2), again.predict(rows, 2));
        assertTrue(again.describe().endsWith("standard input scaling"), again.describe());
        // another producer's Sub and Div: an affine scaling, one value shared by every input
        Graph foreign = new Graph().input("x", "N", 3L).weights("o", new long[] {1}, new float[] {2})
                .weights("d", new long[] {3}, new float[] {4, 5, 6})
                .node("s", "Sub", List.of("x", "o"), "c").node("v", "Div", List.of("c", "d"), "y")
                .weights("w", new long[] {2, 3}, values(6, 1))
                .node("g", "Gemm", List.of("y", "w"), "output", Onnx.intAttribute("transB", 1));
        Network affine = OnnxFile.load(foreign.write(dir.resolve("foreign.onnx")));
        assertEquals(new bp.nn.InputScaling("affine", new float[] {2, 2, 2}, new float[] {4, 5, 6}), affine.inputScaling());
        assertRefused(dense("z").weights("o", new long[] {1}, new float[] {2}).node("s", "Sub", List.of("z", "o"), "output"),
                "node 's' (Sub): is not an input scaling (Sub then Div, before the first layer)");
    }

    @Test
    void theExportIsTheDocumentedGraph() throws IOException {
        Network net = Network.builder(6).dense(5, LayerActivation.parse("maxout:3")).dense(4, LayerActivation.parse("prelu"))
                .dense(3, Activation.SOFTMAX).seed(1).build();
        Path file = dir.resolve("m.onnx");
        OnnxFile.save(net, file);
        Onnx.Model m = Onnx.parseModel(Files.readAllBytes(file));
        assertEquals(8, m.irVersion());
        assertEquals(Map.of("", 17L), m.opsets());
        assertEquals(ModelFile.specJson(net, Map.of()), m.metadata().get("bp.spec"));
        assertEquals(List.of("Gemm", "Reshape", "ReduceMax", "Gemm", "PRelu", "Gemm", "Softmax"),
                m.graph().nodes().stream().map(Onnx.Node::op).toList());
        assertEquals(List.of(new Onnx.ValueInfo("input", Onnx.FLOAT, List.of("N", 6L))), m.graph().inputs());
        assertEquals(List.of(new Onnx.ValueInfo("output", Onnx.FLOAT, List.of("N", 3L))), m.graph().outputs());
        Onnx.Node gemm = m.graph().nodes().get(0);
        assertEquals(List.of("input", "layers.0.weight", "layers.0.bias"), gemm.inputs());
        assertEquals(1, gemm.attributes().get("transB").i());
        assertArrayEquals(new long[] {15, 6}, m.graph().initializers().get("layers.0.weight").dims());
        Onnx.Tensor shape = m.graph().initializers().get("layers.0.pieces_shape");
        assertArrayEquals(new long[] {-1, 3, 5}, longs(shape));
        assertArrayEquals(new long[] {1}, m.graph().nodes().get(2).attributes().get("axes").ints());
        assertEquals(0, m.graph().nodes().get(2).attributes().get("keepdims").i());
        assertEquals(1, m.graph().nodes().get(6).attributes().get("axis").i());
        assertEquals("output", m.graph().nodes().get(6).outputs().get(0));
    }

    static long[] longs(Onnx.Tensor t) {
        long[] v = new long[t.raw().length() / 8];
        t.raw().littleEndian().asLongBuffer().get(v);
        return v;
    }

    // ---- graphs as other producers write them --------------------------------------------------

    /** Builds a graph node by node, as PyTorch's exporter would. */
    static final class Graph {
        final List<Protobuf.Writer> nodes = new ArrayList<>();
        final List<Protobuf.Writer> initializers = new ArrayList<>();
        final List<Protobuf.Writer> inputs = new ArrayList<>();
        String output = "output";
        long opset = 17;

        Graph input(String name, Object... dims) {
            inputs.add(Onnx.valueInfo(name, dims));
            return this;
        }

        Graph node(String name, String op, List<String> in, String out, Protobuf.Writer... attributes) {
            nodes.add(Onnx.node(name, op, in, out, attributes));
            return this;
        }

        Graph weights(String name, long[] dims, float[] values) {
            initializers.add(Onnx.floatTensor(name, dims, values, 0, values.length));
            return this;
        }

        Graph tensor(Protobuf.Writer t) {
            initializers.add(t);
            return this;
        }

        byte[] bytes(Map<String, String> metadata) {
            Protobuf.Writer g = Onnx.graph("g", nodes, initializers, inputs, List.of(Onnx.valueInfo(output, "N", "?")));
            return Onnx.model(8, opset, "pytorch", "1.13", g, metadata).toByteArray();
        }

        Path write(Path file) throws IOException {
            return Files.write(file, bytes(Map.of()));
        }
    }

    static float[] values(int n, int seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextDouble(-1, 1);
        }
        return v;
    }

    static float[] transpose(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = m[r * cols + c];
            }
        }
        return t;
    }

    /**
     * Flatten, MatMul + Add (bias as the first operand), a Constant-shaped maxout, Gemm without
     * transB and without C, PRelu with one shared slope, float_data instead of raw_data, and a
     * Softmax without axis: each lands in the tensor bp expects, exactly.
     */
    @Test
    void readsTheFormsPyTorchWrites() throws IOException {
        float[] w0 = values(4 * 6, 1); // MatMul: [in=4, out=6]
        float[] b0 = values(6, 2);
        float[] w1 = values(3 * 5, 3); // Gemm transB=0: [in=3, out=5]
        float[] w2 = values(5 * 2, 4); // Gemm transB=1: [out=2, in=5]
        float[] b2 = values(2, 5);
        Protobuf.Writer shape = new Protobuf.Writer().string(1, "value")
                .message(5, Onnx.int64Tensor("", -1, 2, 3)).varint(20, Onnx.ATTR_TENSOR);
        Protobuf.Writer plainFloats = Onnx.tensor("2.weight", new long[] {5, 2}, Onnx.FLOAT);
        for (float v : transpose(w2, 2, 5)) {
            plainFloats.float32(4, v); // unpacked float_data
        }
        Graph g = new Graph().input("x", "N", 1L, 2L, 2L)
                .node("/0/Flatten", "Flatten", List.of("x"), "f")
                .weights("w0", new long[] {4, 6}, w0).weights("b0", new long[] {6}, b0)
                .node("/1/MatMul", "MatMul", List.of("f", "w0"), "m")
                .node("/1/Add", "Add", List.of("b0", "m"), "z0")
                .node("/2/Constant", "Constant", List.of(), "s", shape)
                .node("/2/Reshape", "Reshape", List.of("z0", "s"), "r")
                .node("/2/ReduceMax", "ReduceMax", List.of("r"), "a0", Onnx.intsAttribute("axes", 1),
                        Onnx.intAttribute("keepdims", 0))
                .weights("w1", new long[] {3, 5}, w1)
                .node("/3/Gemm", "Gemm", List.of("a0", "w1"), "z1")
                .weights("slope", new long[] {1}, new float[] {0.3f})
                .node("/4/PRelu", "PRelu", List.of("z1", "slope"), "a1")
                .tensor(plainFloats).weights("b2", new long[] {2}, b2)
                .node("/5/Gemm", "Gemm", List.of("a1", "2.weight", "b2"), "z2", Onnx.intAttribute("transB", 0))
                .node("/6/Softmax", "Softmax", List.of("z2"), "output");
        Network net = OnnxFile.load(g.write(dir.resolve("torch.onnx")));
        assertEquals("4-3:maxout-5:prelu-2:softmax, loss ce, 67 parameters", net.describe());
        float[] expected = new float[net.parameterCount()];
        int at = 0;
        for (float[] part : List.of(transpose(w0, 4, 6), b0, transpose(w1, 3, 5), new float[5],
                new float[] {0.3f, 0.3f, 0.3f, 0.3f, 0.3f}, w2, b2)) {
            System.arraycopy(part, 0, expected, at, part.length);
            at += part.length;
        }
        assertSameBits(expected, net.parameters());
        Map<String, Object> origin = OnnxFile.trainingSettings(dir.resolve("torch.onnx"));
        assertEquals("pytorch", origin.get("producer"));
        assertEquals(Loss.MSE, OnnxFile.load(dir.resolve("torch.onnx"), Loss.MSE).loss());
    }

    /** A network ending in a Gemm (logits) gets an identity output and mse; after Sigmoid, bce. */
    @Test
    void theLossFitsTheOutput() throws IOException {
        Graph logits = new Graph().input("x", "N", 3L).weights("w", new long[] {2, 3}, values(6, 1))
                .node("g", "Gemm", List.of("x", "w"), "output", Onnx.intAttribute("transB", 1));
        Network net = OnnxFile.load(logits.write(dir.resolve("logits.onnx")));
        assertEquals("3-2:identity, loss mse, 8 parameters", net.describe());
        Graph sigmoid = new Graph().input("x", "N", 3L).weights("w", new long[] {2, 3}, values(6, 1))
                .node("g", "Gemm", List.of("x", "w"), "z", Onnx.intAttribute("transB", 1))
                .node("s", "Sigmoid", List.of("z"), "output");
        assertEquals(Loss.BINARY_CROSS_ENTROPY, OnnxFile.load(sigmoid.write(dir.resolve("s.onnx"))).loss());
    }

    // ---- refusals -------------------------------------------------------------------------------

    void assertRefused(Graph g, String... fragments) throws IOException {
        Path file = g.write(dir.resolve("refused.onnx"));
        ModelFileException e = assertThrows(ModelFileException.class, () -> OnnxFile.load(file));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' missing from: " + e.getMessage());
        }
    }

    static Graph dense(String out) {
        return new Graph().input("x", "N", 3L).weights("w", new long[] {2, 3}, values(6, 1))
                .node("/0/Gemm", "Gemm", List.of("x", "w"), out, Onnx.intAttribute("transB", 1));
    }

    @Test
    void refusesWhatIsNotAChainOfDenseLayers() throws IOException {
        assertRefused(dense("z").node("/1/Conv", "Conv", List.of("z"), "output"),
                "node '/1/Conv' (Conv): is not supported; bp imports chains of dense layers");
        assertRefused(dense("z").node("/1/Relu", "Relu", List.of("z"), "a").node("/2/Add", "Add", List.of("a", "z"), "output"),
                "node '/2/Add' (Add): does not add a bias to a MatMul");
        assertRefused(dense("z").node("/1/Relu", "Relu", List.of("x"), "output"),
                "node '/1/Relu' (Relu): does not take 'z', the output of the node before it");
        assertRefused(dense("z").node("/1/Relu", "Relu", List.of("z"), "a").node("/2/Tanh", "Tanh", List.of("a"), "output"),
                "node '/2/Tanh' (Tanh): does not follow a Gemm or MatMul");
        assertRefused(dense("z"), "the chain of layers ends in 'z' but the graph output is 'output'");
        assertRefused(dense("z").node("/1/Softmax", "Softmax", List.of("z"), "output", Onnx.intAttribute("axis", 0)),
                "(Softmax): has axis 0");
        assertRefused(dense("z").node("/1/Relu", "Relu", List.of("z"), "output").input("y", "N", 3L),
                "the graph has 2 inputs besides its weights [x, y]");
        Graph custom = dense("z").node("/1/Relu", "Relu", List.of("z"), "output");
        custom.nodes.set(1, Onnx.node("/1/Relu", "Relu", List.of("z"), "output").string(7, "com.microsoft"));
        assertRefused(custom, "from the operator domain 'com.microsoft'");
    }

    @Test
    void refusesGemmsThatAreNotDenseLayers() throws IOException {
        assertRefused(new Graph().input("x", "N", 3L).weights("w", new long[] {2, 3}, values(6, 1))
                .node("/0/Gemm", "Gemm", List.of("x", "w"), "output", Onnx.floatAttribute("alpha", 2f)),
                "(Gemm): has alpha or beta other than 1");
        assertRefused(new Graph().input("x", "N", 3L).node("/0/Gemm", "Gemm", List.of("x", "w"), "output"),
                "input 1 is not stored in the file");
        assertRefused(dense("z").weights("w2", new long[] {4, 3}, values(12, 2))
                .node("/1/Gemm", "Gemm", List.of("z", "w2"), "output", Onnx.intAttribute("transB", 1)),
                "node '/1/Gemm' (Gemm): takes 3 inputs but the layer before gives 2");
        assertRefused(new Graph().input("x", "N", 4L).weights("w", new long[] {2, 3}, values(6, 1))
                .node("/0/Gemm", "Gemm", List.of("x", "w"), "output", Onnx.intAttribute("transB", 1)),
                "the graph input 'x' has shape [N, 4], but the first layer takes 3 features");
        assertRefused(dense("z").weights("b", new long[] {3}, values(3, 1)).node("/1/Add", "Add", List.of("z", "b"), "output"),
                "does not add a bias to a MatMul");
    }

    @Test
    void refusesTensorsItCannotRead() throws IOException {
        Protobuf.Writer external = Onnx.tensor("w", new long[] {2, 3}, Onnx.FLOAT).varint(14, 1);
        assertRefused(new Graph().input("x", "N", 3L).tensor(external)
                .node("/0/Gemm", "Gemm", List.of("x", "w"), "output", Onnx.intAttribute("transB", 1)),
                "tensor 'w' is stored as external data");
        Protobuf.Writer doubles = Onnx.tensor("w", new long[] {2, 3}, 11).bytes(9, new byte[48]);
        assertRefused(new Graph().input("x", "N", 3L).tensor(doubles)
                .node("/0/Gemm", "Gemm", List.of("x", "w"), "output", Onnx.intAttribute("transB", 1)),
                "tensor 'w' has data type 11; bp reads float32 (1) weights");
        Protobuf.Writer short1 = Onnx.tensor("w", new long[] {2, 3}, Onnx.FLOAT).bytes(9, new byte[20]);
        assertRefused(new Graph().input("x", "N", 3L).tensor(short1)
                .node("/0/Gemm", "Gemm", List.of("x", "w"), "output", Onnx.intAttribute("transB", 1)),
                "tensor 'w' has 20 bytes of data, expected 24");
        Protobuf.Writer huge = Onnx.tensor("w", new long[] {1L << 30, 1L << 30}, Onnx.FLOAT).bytes(9, new byte[4]);
        assertRefused(new Graph().input("x", "N", 3L).tensor(huge)
                .node("/0/Gemm", "Gemm", List.of("x", "w"), "output", Onnx.intAttribute("transB", 1)),
                "input 1 has shape [1073741824, 1073741824]");
    }

    @Test
    void refusesASpecThatDisagreesWithTheGraph() throws IOException {
        Network net = network("relu", "softmax", Loss.CROSS_ENTROPY);
        Network other = network("tanh", "softmax", Loss.CROSS_ENTROPY);
        Path file = dir.resolve("m.onnx");
        OnnxFile.save(net, file);
        byte[] bytes = Files.readAllBytes(file);
        String spec = ModelFile.specJson(net, Map.of());
        String lie = ModelFile.specJson(other, Map.of());
        byte[] swapped = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1)
                .replace(spec, lie).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        assertEquals(spec.length(), lie.length());
        Files.write(file, swapped);
        ModelFileException e = assertThrows(ModelFileException.class, () -> OnnxFile.load(file));
        assertTrue(e.getMessage().contains("the graph computes [6, 5, 4] [relu, softmax] but its bp.spec says "
                + "[6, 5, 4] [tanh, softmax]"), e.getMessage());
    }

    @Test
    void truncatedAndForeignFilesFailWithOneLine() throws IOException {
        Path file = dir.resolve("m.onnx");
        OnnxFile.save(network("relu", "softmax", Loss.CROSS_ENTROPY), file);
        byte[] bytes = Files.readAllBytes(file);
        for (int cut : new int[] {0, 1, 7, bytes.length / 3, bytes.length - 1}) {
            Files.write(file, Arrays.copyOf(bytes, cut));
            ModelFileException e = assertThrows(ModelFileException.class, () -> OnnxFile.load(file));
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        Files.writeString(file, "{\"not\": \"onnx\"}");
        ModelFileException e = assertThrows(ModelFileException.class, () -> OnnxFile.load(file));
        assertTrue(e.getMessage().contains("not a valid ONNX file"), e.getMessage());
        ModelFileException missing = assertThrows(ModelFileException.class, () -> OnnxFile.load(dir.resolve("none.onnx")));
        assertTrue(missing.getMessage().endsWith("none.onnx: no such file"), missing.getMessage());
    }
}
