package bp.io;

import bp.nn.InputScaling;
import bp.nn.LayerActivation;
import bp.nn.Loss;
import bp.nn.Network;
import com.fasterxml.jackson.jr.ob.JSON;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Model files in the safetensors format: an 8-byte little-endian header length, a JSON header
 * (padded with spaces to a multiple of 8 bytes), then the tensors as little-endian float32. Layer
 * {@code i} is stored as {@code layers.i.weight} {@code [out, in]} and {@code layers.i.bias}
 * {@code [out]}, as in PyTorch's {@code nn.Linear}; {@code __metadata__["bp.spec"]} is a JSON
 * document with the architecture and the training settings.
 */
public final class ModelFile {

    static final String SPEC_KEY = "bp.spec";
    static final String FORMAT = "bp-mlp";
    /** The tensors of a network's {@link InputScaling}. */
    static final String SCALING_OFFSET = "input.offset";
    static final String SCALING_DIVISOR = "input.divisor";

    private ModelFile() {
    }

    /**
     * Writes {@code net} atomically; {@code training} (may be empty) is stored in the spec as is.
     *
     * @param net the network
     * @param file the safetensors file to write, atomically
     * @param training the training settings to keep in the metadata
     */
    public static void save(Network net, Path file, Map<String, Object> training) {
        InputScaling scaling = net.inputScaling();
        SafeTensors.write(file, headerJson(net, training), scaling == null ? List.of(net.parameters())
                : List.of(net.parameters(), scaling.offset(), scaling.divisor()));
    }

    private static byte[] headerJson(Network net, Map<String, Object> training) {
        Map<String, Object> header = new LinkedHashMap<>();
        try {
            header.put("__metadata__", Map.of(SPEC_KEY, specJson(net, training)));
            for (int l = 0; l < net.layerCount(); l++) {
                for (Network.Tensor t : net.tensors(l)) {
                    header.put("layers." + l + "." + t.name(),
                            tensor(t.shape(), 4L * t.offset(), 4L * t.offset() + 4L * t.length()));
                }
            }
            if (net.inputScaling() != null) {
                long end = 4L * net.parameterCount();
                long bytes = 4L * net.inputs();
                header.put(SCALING_OFFSET, tensor(List.of(net.inputs()), end, end + bytes));
                header.put(SCALING_DIVISOR, tensor(List.of(net.inputs()), end + bytes, end + 2 * bytes));
            }
            return JSON.std.asBytes(header);
        } catch (IOException e) {
            throw new ModelFileException("cannot encode the model header: " + e.getMessage(), e);
        }
    }

    /** The {@code bp.spec} document: architecture, loss and {@code training} (may be empty), as JSON. */
    static String specJson(Network net, Map<String, Object> training) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("format", FORMAT);
        spec.put("version", 1);
        spec.put("sizes", toList(net.sizes()));
        List<String> acts = new ArrayList<>();
        for (int l = 0; l < net.layerCount(); l++) {
            acts.add(net.layerActivation(l).label());
        }
        spec.put("activations", acts);
        spec.put("loss", net.loss().label());
        if (net.inputScaling() != null) {
            spec.put("input_scaling", net.inputScaling().kind());
        }
        spec.put("training", training == null ? Map.of() : training);
        try {
            return JSON.std.asString(spec);
        } catch (IOException e) {
            throw new ModelFileException("cannot encode bp.spec: " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> tensor(List<Integer> shape, long begin, long end) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("dtype", "F32");
        t.put("shape", shape);
        t.put("data_offsets", List.of(begin, end));
        return t;
    }

    /**
     * Reads a model written by {@link #save} (or any safetensors file with the same tensors and spec).
     *
     * @param file a model file
     * @return the network
     */
    public static Network load(Path file) {
        SafeTensors.Parsed parsed = SafeTensors.parse(file, readAll(file), SafeTensors.MAX_HEADER);
        byte[] bytes = parsed.bytes();
        int dataStart = parsed.dataStart();
        Map<String, Object> header = parsed.header();
        Spec spec = Spec.parse(file, specText(file, header.get("__metadata__")));
        Network net;
        try {
            net = Network.architecture(spec.sizes, spec.activations, spec.loss);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file + ": bp.spec: " + e.getMessage(), e);
        }
        long dataLen = bytes.length - (long) dataStart;
        ByteBuffer data = ByteBuffer.wrap(bytes, dataStart, (int) dataLen).slice().order(ByteOrder.LITTLE_ENDIAN);
        Set<String> expected = new LinkedHashSet<>();
        for (int l = 0; l < net.layerCount(); l++) {
            for (Network.Tensor t : net.tensors(l)) {
                String name = "layers." + l + "." + t.name();
                expected.add(name);
                readTensor(file, header, name, t.shape(), data, net.parameters(), t.offset());
            }
        }
        if (spec.inputScaling() != null) {
            float[] offset = new float[net.inputs()];
            float[] divisor = new float[net.inputs()];
            readTensor(file, header, SCALING_OFFSET, List.of(net.inputs()), data, offset, 0);
            readTensor(file, header, SCALING_DIVISOR, List.of(net.inputs()), data, divisor, 0);
            expected.add(SCALING_OFFSET);
            expected.add(SCALING_DIVISOR);
            try {
                net.setInputScaling(new InputScaling(spec.inputScaling(), offset, divisor));
            } catch (IllegalArgumentException e) {
                throw new ModelFileException(file + ": " + e.getMessage(), e);
            }
        }
        for (String key : header.keySet()) {
            if (!key.equals("__metadata__") && !expected.contains(key)) {
                throw new ModelFileException(file + ": unexpected tensor '" + key + "' for the architecture in "
                        + "bp.spec, which has " + expected);
            }
        }
        net.parametersChanged();
        return net;
    }

    /**
     * The training settings stored with a model (an empty map when there are none).
     *
     * @param file a model file
     * @return the settings, empty when the file has none
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> trainingSettings(Path file) {
        byte[] bytes = readAll(file);
        try {
            long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            Map<String, Object> header = JSON.std.mapFrom(new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8));
            Map<String, Object> meta = (Map<String, Object>) header.get("__metadata__");
            Map<String, Object> spec = JSON.std.mapFrom((String) meta.get(SPEC_KEY));
            Object t = spec.get("training");
            return t instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        } catch (IOException | RuntimeException e) {
            throw new ModelFileException(file + ": cannot read the training settings: " + firstLine(e.getMessage()), e);
        }
    }

    private static void readTensor(Path file, Map<String, Object> header, String name, List<Integer> shape,
                                   ByteBuffer data, float[] params, int offset) {
        if (!(header.get(name) instanceof Map<?, ?> t)) {
            throw new ModelFileException(file + ": tensor '" + name + "' is missing from the header");
        }
        if (!"F32".equals(t.get("dtype"))) {
            throw new ModelFileException(file + ": tensor '" + name + "' has dtype " + t.get("dtype") + ", expected F32");
        }
        List<Long> actualShape = longs(file, name + ".shape", t.get("shape"));
        List<Long> expected = shape.stream().map(Integer::longValue).toList();
        if (!actualShape.equals(expected)) {
            throw new ModelFileException(file + ": tensor '" + name + "' has shape " + actualShape + ", expected "
                    + expected + " for the architecture in bp.spec");
        }
        List<Long> offsets = longs(file, name + ".data_offsets", t.get("data_offsets"));
        long count = shape.stream().mapToLong(Integer::longValue).reduce(1, (x, y) -> x * y);
        if (offsets.size() != 2 || offsets.get(0) < 0 || offsets.get(1) - offsets.get(0) != 4 * count
                || offsets.get(1) > data.capacity()) {
            throw new ModelFileException(file + ": tensor '" + name + "' has data_offsets " + offsets + ", expected "
                    + 4 * count + " bytes inside the " + data.capacity() + "-byte data section");
        }
        int begin = (int) (long) offsets.get(0);
        for (int i = 0; i < count; i++) {
            params[offset + i] = data.getFloat(begin + 4 * i);
        }
    }

    private static List<Long> longs(Path file, String what, Object value) {
        if (!(value instanceof List<?> list)) {
            throw new ModelFileException(file + ": " + what + " is not a list of integers");
        }
        List<Long> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Number n) || n.doubleValue() != n.longValue()) {
                throw new ModelFileException(file + ": " + what + " contains " + o + ", expected integers");
            }
            out.add(n.longValue());
        }
        return out;
    }

    static byte[] readAll(Path file) {
        try {
            long size = Files.size(file);
            if (size > Integer.MAX_VALUE - 16) {
                throw new ModelFileException(file + ": " + size + " bytes, larger than bp reads (2 GiB)");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ModelFileException(file + ": no such file");
        } catch (IOException e) {
            throw new ModelFileException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static List<Integer> toList(int[] v) {
        List<Integer> l = new ArrayList<>();
        for (int x : v) {
            l.add(x);
        }
        return l;
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static String specText(Path file, Object metadata) {
        if (!(metadata instanceof Map<?, ?> meta) || !(meta.get(SPEC_KEY) instanceof String text)) {
            throw new ModelFileException(file + ": the header has no __metadata__." + SPEC_KEY
                    + " (not a bp model: bp needs the architecture stored there)");
        }
        return text;
    }

    /** The architecture part of {@code bp.spec}. */
    record Spec(int[] sizes, List<LayerActivation> activations, Loss loss, String inputScaling,
                Map<String, Object> training) {

        static Spec parse(Path file, String text) {
            Map<String, Object> spec;
            try {
                spec = JSON.std.mapFrom(text);
            } catch (IOException | RuntimeException e) {
                throw new ModelFileException(file + ": __metadata__." + SPEC_KEY + " is not valid JSON: "
                        + firstLine(e.getMessage()), e);
            }
            if (!FORMAT.equals(spec.get("format"))) {
                throw new ModelFileException(file + ": bp.spec format is " + spec.get("format") + ", expected " + FORMAT);
            }
            List<Long> sizeList = longs(file, "bp.spec sizes", spec.get("sizes"));
            if (sizeList.size() < 2) {
                throw new ModelFileException(file + ": bp.spec sizes " + sizeList + " needs at least 2 entries");
            }
            int[] sizes = new int[sizeList.size()];
            for (int i = 0; i < sizes.length; i++) {
                long s = sizeList.get(i);
                if (s < 1 || s > 1 << 24) {
                    throw new ModelFileException(file + ": bp.spec sizes[" + i + "] = " + s + ", expected 1.." + (1 << 24));
                }
                sizes[i] = (int) s;
            }
            if (!(spec.get("activations") instanceof List<?> actList) || actList.size() != sizes.length - 1) {
                throw new ModelFileException(file + ": bp.spec activations must list " + (sizes.length - 1) + " names");
            }
            List<LayerActivation> acts = new ArrayList<>();
            try {
                for (Object a : actList) {
                    acts.add(LayerActivation.parse(String.valueOf(a)));
                }
                Loss loss = Loss.parse(String.valueOf(spec.get("loss")));
                @SuppressWarnings("unchecked")
                Map<String, Object> training = spec.get("training") instanceof Map<?, ?> t ? (Map<String, Object>) t
                        : Map.of();
                Object scaling = spec.get("input_scaling");
                if (scaling != null && !List.of("standard", "minmax", "affine").contains(scaling)) {
                    throw new ModelFileException(file + ": bp.spec input_scaling is " + scaling
                            + ", expected standard, minmax or affine");
                }
                return new Spec(sizes, acts, loss, (String) scaling, training);
            } catch (IllegalArgumentException e) {
                throw new ModelFileException(file + ": bp.spec: " + e.getMessage(), e);
            }
        }
    }
}
