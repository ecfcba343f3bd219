package bp.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.DoubleStream;
import java.util.stream.LongStream;

/**
 * The ONNX messages bp writes and reads (onnx.proto: ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto), encoded with {@link Protobuf}. The builders write
 * the subset bp exports; the records hold what an import needs and ignore every other field.
 */
final class Onnx {

    static final int FLOAT = 1;
    static final int INT64 = 7;
    static final int ATTR_FLOAT = 1;
    static final int ATTR_INT = 2;
    static final int ATTR_TENSOR = 4;
    static final int ATTR_INTS = 7;

    private Onnx() {
    }

    // ---- writing -------------------------------------------------------------------------------

    static Protobuf.Writer model(long irVersion, long opset, String producer, String version, Protobuf.Writer graph,
                                 Map<String, String> metadata) {
        Protobuf.Writer m = new Protobuf.Writer().varint(1, irVersion)
                .message(8, new Protobuf.Writer().string(1, "").varint(2, opset))
                .string(2, producer).string(3, version).message(7, graph);
        metadata.forEach((k, v) -> m.message(14, new Protobuf.Writer().string(1, k).string(2, v)));
        return m;
    }

    static Protobuf.Writer graph(String name, List<Protobuf.Writer> nodes, List<Protobuf.Writer> initializers,
                                 List<Protobuf.Writer> inputs, List<Protobuf.Writer> outputs) {
        Protobuf.Writer g = new Protobuf.Writer();
        nodes.forEach(n -> g.message(1, n));
        g.string(2, name);
        initializers.forEach(t -> g.message(5, t));
        inputs.forEach(v -> g.message(11, v));
        outputs.forEach(v -> g.message(12, v));
        return g;
    }

    static Protobuf.Writer node(String name, String op, List<String> inputs, String output, Protobuf.Writer... attributes) {
        Protobuf.Writer n = new Protobuf.Writer();
        inputs.forEach(i -> n.string(1, i));
        n.string(2, output).string(3, name).string(4, op);
        for (Protobuf.Writer a : attributes) {
            n.message(5, a);
        }
        return n;
    }

    static Protobuf.Writer intAttribute(String name, long value) {
        return new Protobuf.Writer().string(1, name).varint(3, value).varint(20, ATTR_INT);
    }

    static Protobuf.Writer floatAttribute(String name, float value) {
        return new Protobuf.Writer().string(1, name).float32(2, value).varint(20, ATTR_FLOAT);
    }

    static Protobuf.Writer intsAttribute(String name, long... values) {
        Protobuf.Writer a = new Protobuf.Writer().string(1, name);
        for (long v : values) {
            a.varint(8, v);
        }
        return a.varint(20, ATTR_INTS);
    }

    /** A float32 tensor with its values as little-endian {@code raw_data}, as PyTorch writes them. */
    static Protobuf.Writer floatTensor(String name, long[] dims, float[] values, int from, int count) {
        ByteBuffer raw = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(values, from, count);
        return tensor(name, dims, FLOAT).bytes(9, raw.array());
    }

    static Protobuf.Writer int64Tensor(String name, long... values) {
        ByteBuffer raw = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        raw.asLongBuffer().put(values);
        return tensor(name, new long[] {values.length}, INT64).bytes(9, raw.array());
    }

    static Protobuf.Writer tensor(String name, long[] dims, int dataType) {
        Protobuf.Writer t = new Protobuf.Writer();
        for (long d : dims) {
            t.varint(1, d);
        }
        return t.varint(2, dataType).string(8, name);
    }

    /** A float tensor's name and shape; a {@code String} dimension is symbolic ({@code dim_param}). */
    static Protobuf.Writer valueInfo(String name, Object... dims) {
        Protobuf.Writer shape = new Protobuf.Writer();
        for (Object d : dims) {
            shape.message(1, d instanceof String s ? new Protobuf.Writer().string(2, s)
                    : new Protobuf.Writer().varint(1, ((Number) d).longValue()));
        }
        Protobuf.Writer tensorType = new Protobuf.Writer().varint(1, FLOAT).message(2, shape);
        return new Protobuf.Writer().string(1, name).message(2, new Protobuf.Writer().message(1, tensorType));
    }

    // ---- reading -------------------------------------------------------------------------------

    record Model(long irVersion, Map<String, Long> opsets, String producer, Graph graph, Map<String, String> metadata) {
    }

    record Graph(List<Node> nodes, Map<String, Tensor> initializers, List<ValueInfo> inputs, List<ValueInfo> outputs) {
    }

    record Node(String name, String op, String domain, List<String> inputs, List<String> outputs,
                Map<String, Attribute> attributes) {
    }

    record Attribute(String name, int type, float f, long i, Tensor t, long[] ints) {
    }

    /** A value's element type and shape; each dimension a {@code Long} or a symbolic {@code String}. */
    record ValueInfo(String name, int elemType, List<Object> dims) {
    }

    /** A tensor as stored: its data in {@code raw} or in one of the typed repeated fields. */
    record Tensor(String name, long[] dims, int dataType, boolean external, Protobuf.Slice raw, float[] floatData,
                  long[] int64Data) {
    }

    static Model parseModel(byte[] bytes) {
        Protobuf.Reader r = new Protobuf.Reader(bytes, 0, bytes.length, "model");
        long ir = 0;
        Map<String, Long> opsets = new LinkedHashMap<>();
        String producer = "";
        Graph graph = null;
        Map<String, String> metadata = new LinkedHashMap<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> ir = r.varint();
                case 2 -> producer = r.string();
                case 7 -> graph = parseGraph(r.message("graph"));
                case 8 -> {
                    Protobuf.Reader o = r.message("opset_import");
                    String domain = "";
                    long version = 0;
                    while (o.next()) {
                        switch (o.field()) {
                            case 1 -> domain = o.string();
                            case 2 -> version = o.varint();
                            default -> o.skip();
                        }
                    }
                    opsets.put(domain, version);
                }
                case 14 -> {
                    String[] kv = keyValue(r.message("metadata_props"));
                    metadata.put(kv[0], kv[1]);
                }
                default -> r.skip();
            }
        }
        return new Model(ir, opsets, producer, graph, metadata);
    }

    private static String[] keyValue(Protobuf.Reader r) {
        String[] kv = {"", ""};
        while (r.next()) {
            switch (r.field()) {
                case 1 -> kv[0] = r.string();
                case 2 -> kv[1] = r.string();
                default -> r.skip();
            }
        }
        return kv;
    }

    private static Graph parseGraph(Protobuf.Reader r) {
        List<Node> nodes = new ArrayList<>();
        Map<String, Tensor> initializers = new LinkedHashMap<>();
        List<ValueInfo> inputs = new ArrayList<>();
        List<ValueInfo> outputs = new ArrayList<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> nodes.add(parseNode(r.message("node[" + nodes.size() + "]")));
                case 5 -> {
                    Tensor t = parseTensor(r.message("initializer[" + initializers.size() + "]"));
                    initializers.put(t.name(), t);
                }
                case 11 -> inputs.add(parseValueInfo(r.message("input[" + inputs.size() + "]")));
                case 12 -> outputs.add(parseValueInfo(r.message("output[" + outputs.size() + "]")));
                default -> r.skip();
            }
        }
        return new Graph(nodes, initializers, inputs, outputs);
    }

    private static Node parseNode(Protobuf.Reader r) {
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        Map<String, Attribute> attributes = new LinkedHashMap<>();
        String name = "";
        String op = "";
        String domain = "";
        while (r.next()) {
            switch (r.field()) {
                case 1 -> inputs.add(r.string());
                case 2 -> outputs.add(r.string());
                case 3 -> name = r.string();
                case 4 -> op = r.string();
                case 7 -> domain = r.string();
                case 5 -> {
                    Attribute a = parseAttribute(r.message("attribute[" + attributes.size() + "]"));
                    attributes.put(a.name(), a);
                }
                default -> r.skip();
            }
        }
        return new Node(name, op, domain, inputs, outputs, attributes);
    }

    private static Attribute parseAttribute(Protobuf.Reader r) {
        String name = "";
        int type = 0;
        float f = 0;
        long i = 0;
        Tensor t = null;
        LongStream.Builder ints = LongStream.builder();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> name = r.string();
                case 2 -> f = r.float32();
                case 3 -> i = r.varint();
                case 5 -> t = parseTensor(r.message("t"));
                case 8 -> r.varints(ints);
                case 20 -> type = (int) r.varint();
                default -> r.skip();
            }
        }
        return new Attribute(name, type, f, i, t, ints.build().toArray());
    }

    private static Tensor parseTensor(Protobuf.Reader r) {
        LongStream.Builder dims = LongStream.builder();
        DoubleStream.Builder floats = DoubleStream.builder();
        LongStream.Builder int64s = LongStream.builder();
        String name = "";
        int dataType = 0;
        boolean external = false;
        Protobuf.Slice raw = null;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> r.varints(dims);
                case 2 -> dataType = (int) r.varint();
                case 4 -> r.floats(floats);
                case 7 -> r.varints(int64s);
                case 8 -> name = r.string();
                case 9 -> raw = r.bytes();
                case 13 -> {
                    external = true;
                    r.skip();
                }
                case 14 -> external |= r.varint() == 1;
                default -> r.skip();
            }
        }
        return new Tensor(name, dims.build().toArray(), dataType, external, raw, toFloats(floats.build().toArray()),
                int64s.build().toArray());
    }

    private static float[] toFloats(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }

    private static ValueInfo parseValueInfo(Protobuf.Reader r) {
        String name = "";
        int elemType = 0;
        List<Object> dims = new ArrayList<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> name = r.string();
                case 2 -> {
                    Protobuf.Reader type = r.message("type");
                    while (type.next()) {
                        if (type.field() != 1) {
                            type.skip();
                            continue;
                        }
                        Protobuf.Reader tensorType = type.message("tensor_type");
                        while (tensorType.next()) {
                            switch (tensorType.field()) {
                                case 1 -> elemType = (int) tensorType.varint();
                                case 2 -> parseShape(tensorType.message("shape"), dims);
                                default -> tensorType.skip();
                            }
                        }
                    }
                }
                default -> r.skip();
            }
        }
        return new ValueInfo(name, elemType, dims);
    }

    private static void parseShape(Protobuf.Reader shape, List<Object> dims) {
        while (shape.next()) {
            if (shape.field() != 1) {
                shape.skip();
                continue;
            }
            Protobuf.Reader dim = shape.message("dim");
            Object d = "?";
            while (dim.next()) {
                switch (dim.field()) {
                    case 1 -> d = dim.varint();
                    case 2 -> d = dim.string();
                    default -> dim.skip();
                }
            }
            dims.add(d);
        }
    }
}
