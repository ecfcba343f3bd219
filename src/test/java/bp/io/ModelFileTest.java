package bp.io;

import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import com.fasterxml.jackson.jr.ob.JSON;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelFileTest {

    @TempDir
    Path dir;

    static Network network() {
        return Network.builder(7).dense(5, Activation.TANH).dense(4, Activation.RELU).dense(3, Activation.SOFTMAX)
                .seed(12).build();
    }

    @Test
    void roundTripGivesBitIdenticalPredictions() {
        Network net = network();
        Path file = dir.resolve("m.safetensors");
        ModelFile.save(net, file, Map.of("optimizer", "sgd", "learning_rate", 0.1));
        Network back = ModelFile.load(file);
        assertArrayEquals(net.sizes(), back.sizes());
        assertEquals(Loss.CROSS_ENTROPY, back.loss());
        assertEquals(Activation.RELU, back.activation(1));
        assertArrayEquals(net.parameters(), back.parameters());
        float[] x = new float[20 * 7];
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextDouble(-2, 2);
        }
        float[] a = net.predict(x, 20);
        float[] b = back.predict(x, 20);
        for (int i = 0; i < a.length; i++) {
            assertEquals(Float.floatToIntBits(a[i]), Float.floatToIntBits(b[i]), "output " + i);
        }
        assertEquals("sgd", ModelFile.trainingSettings(file).get("optimizer"));
    }

    /** The layout the safetensors specification prescribes, checked byte by byte. */
    @Test
    @SuppressWarnings("unchecked")
    void fileFollowsTheSafetensorsLayout() throws IOException {
        Network net = network();
        Path file = dir.resolve("m.safetensors");
        ModelFile.save(net, file, Map.of());
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{"), header);
        assertTrue(header.stripTrailing().endsWith("}"));
        assertTrue(header.substring(header.stripTrailing().length()).chars().allMatch(c -> c == ' '), "padding is spaces");
        Map<String, Object> h = JSON.std.mapFrom(header);
        Map<String, Object> meta = (Map<String, Object>) h.get("__metadata__");
        Map<String, Object> spec = JSON.std.mapFrom((String) meta.get("bp.spec"));
        assertEquals(List.of(7, 5, 4, 3), spec.get("sizes"));
        assertEquals(List.of("tanh", "relu", "softmax"), spec.get("activations"));
        long expectedBegin = 0;
        int[][] shapes = {{5, 7}, {5}, {4, 5}, {4}, {3, 4}, {3}};
        String[] names = {"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight",
                "layers.2.bias"};
        ByteBuffer data = ByteBuffer.wrap(bytes, 8 + (int) n, bytes.length - 8 - (int) n).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int t = 0; t < names.length; t++) {
            Map<String, Object> tensor = (Map<String, Object>) h.get(names[t]);
            assertEquals("F32", tensor.get("dtype"));
            List<Number> shape = (List<Number>) tensor.get("shape");
            assertArrayEquals(shapes[t], shape.stream().mapToInt(Number::intValue).toArray(), names[t]);
            List<Number> off = (List<Number>) tensor.get("data_offsets");
            assertEquals(expectedBegin, off.get(0).longValue(), names[t] + " starts where the previous one ended");
            long count = shape.stream().mapToLong(Number::longValue).reduce(1, (a, b) -> a * b);
            assertEquals(expectedBegin + 4 * count, off.get(1).longValue());
            expectedBegin += 4 * count;
        }
        assertEquals(bytes.length - 8 - n, expectedBegin, "the data section is exactly the tensors");
        // PyTorch's layout: weight[out][in] row-major, little-endian float32
        assertEquals(net.weight(1, 2, 3), data.getFloat(4 * (net.weightOffset(1) + 2 * 5 + 3)));
        assertEquals(net.bias(2, 1), data.getFloat(4 * (net.biasOffset(2) + 1)));
    }

    // ---- malformed files --------------------------------------------------------------------------

    /** A valid file's bytes with the header replaced by {@code json} (re-padded). */
    byte[] withHeader(String json) throws IOException {
        Path file = dir.resolve("base.safetensors");
        ModelFile.save(network(), file, Map.of());
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + bytes.length - 8 - (int) n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(h);
        for (int i = h.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        out.put(bytes, 8 + (int) n, bytes.length - 8 - (int) n);
        return out.array();
    }

    String header() throws IOException {
        Path file = dir.resolve("h.safetensors");
        ModelFile.save(network(), file, Map.of());
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return new String(bytes, 8, (int) n, StandardCharsets.UTF_8).strip();
    }

    String loadError(byte[] bytes) throws IOException {
        Path file = dir.resolve("bad.safetensors");
        Files.write(file, bytes);
        return assertThrows(ModelFileException.class, () -> ModelFile.load(file)).getMessage();
    }

    @Test
    void emptyAndTinyFiles() throws IOException {
        assertTrue(loadError(new byte[0]).contains("0 bytes, too short"));
        assertTrue(loadError(new byte[5]).contains("5 bytes, too short"));
    }

    @Test
    void headerLengthLargerThanFile() throws IOException {
        byte[] b = withHeader(header());
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        String m = loadError(b);
        assertTrue(m.contains("header length 1099511627776 at byte 0 does not fit a file of"), m);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
        assertTrue(loadError(b).contains("header length 18446744073709551615"));
    }

    @Test
    void corruptedHeader() throws IOException {
        byte[] b = withHeader(header());
        b[8] = '@';
        assertTrue(loadError(b).contains("is not valid JSON"));
    }

    @Test
    void notABpModel() throws IOException {
        String m = loadError(withHeader("{\"layers.0.weight\":{\"dtype\":\"F32\",\"shape\":[5,7],\"data_offsets\":[0,140]}}"));
        assertTrue(m.contains("no __metadata__.bp.spec"), m);
    }

    @Test
    void tensorShapeDifferentFromSpec() throws IOException {
        String m = loadError(withHeader(header().replace("\"shape\":[4,5]", "\"shape\":[5,4]")));
        assertTrue(m.contains("tensor 'layers.1.weight' has shape [5, 4], expected [4, 5]"), m);
    }

    @Test
    void architectureDifferentFromTensors() throws IOException {
        String m = loadError(withHeader(header().replace("[7,5,4,3]", "[7,6,4,3]")));
        assertTrue(m.contains("tensor 'layers.0.weight' has shape [5, 7], expected [6, 7]"), m);
    }

    @Test
    void unknownActivation() throws IOException {
        String m = loadError(withHeader(header().replace("\\\"relu\\\"", "\\\"swish\\\"")));
        assertTrue(m.contains("unknown activation 'swish'"), m);
    }

    @Test
    void wrongDtypeAndOffsets() throws IOException {
        assertTrue(loadError(withHeader(header().replaceFirst("\"F32\"", "\"F16\""))).contains("has dtype F16, expected F32"));
        String m = loadError(withHeader(header().replace("\"data_offsets\":[0,140]", "\"data_offsets\":[0,1400000]")));
        assertTrue(m.contains("tensor 'layers.0.weight' has data_offsets [0, 1400000]"), m);
    }

    @Test
    void missingTensor() throws IOException {
        String h = header().replace("\"layers.2.bias\"", "\"layers.2.gain\"");
        assertTrue(loadError(withHeader(h)).contains("tensor 'layers.2.bias' is missing"));
    }

    @Test
    void truncatedData() throws IOException {
        byte[] b = withHeader(header());
        String m = loadError(java.util.Arrays.copyOf(b, b.length - 4));
        assertTrue(m.contains("layers.2.bias' has data_offsets"), m);
    }

    @Test
    void saveIntoMissingDirectoryFails() {
        Path file = dir.resolve("no/such/dir/m.safetensors");
        String m = assertThrows(ModelFileException.class, () -> ModelFile.save(network(), file, Map.of())).getMessage();
        assertTrue(m.contains("does not exist"), m);
        assertFalse(Files.exists(file));
    }

    @Test
    void failedSaveLeavesTheOldFileAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("m.safetensors");
        ModelFile.save(network(), file, Map.of());
        byte[] before = Files.readAllBytes(file);
        assertThrows(ModelFileException.class, () -> AtomicFiles.write(file, out -> {
            out.write(new byte[100]);
            throw new IOException("disk full");
        }));
        assertArrayEquals(before, Files.readAllBytes(file));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }
}
