package bp.io;

import bp.data.Csv;
import bp.data.DataException;
import bp.data.Idx;
import bp.nn.Activation;
import bp.nn.Loss;
import bp.nn.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded fuzzing of the three readers that take files from strangers: valid files with random
 * bytes flipped, inserted, deleted, truncated or overwritten with extreme integers. Each input
 * must either parse or fail with the reader's documented exception (a clear one-line error);
 * never another exception, an OutOfMemoryError, or a hang (each parse has a time limit).
 */
class ReaderFuzzTest {

    static final int CASES = 400;

    interface Reader {
        void read(Path file) throws Exception;
    }

    static void fuzz(Path dir, String name, byte[] valid, Reader reader, Class<? extends RuntimeException> expected)
            throws IOException {
        SplittableRandom rng = new SplittableRandom(name.hashCode());
        Path file = dir.resolve(name);
        for (int c = 0; c < CASES; c++) {
            byte[] input = mutate(valid, rng);
            Files.write(file, input);
            int attempt = c;
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
                try {
                    reader.read(file);
                } catch (RuntimeException e) {
                    if (!expected.isInstance(e)) {
                        fail(name + " case " + attempt + ": " + e.getClass().getName() + ": " + e.getMessage(), e);
                    }
                    if (e.getMessage() == null || e.getMessage().isBlank() || e.getMessage().contains("\n")) {
                        fail(name + " case " + attempt + ": the error is not one line: " + e.getMessage());
                    }
                } catch (OutOfMemoryError e) {
                    fail(name + " case " + attempt + ": out of memory, an allocation trusted the input");
                }
            }, name + " case " + attempt + " did not finish");
        }
    }

    static byte[] mutate(byte[] valid, SplittableRandom rng) {
        byte[] b = valid.clone();
        int edits = 1 + rng.nextInt(4);
        for (int e = 0; e < edits && b.length > 0; e++) {
            int at = rng.nextInt(b.length);
            switch (rng.nextInt(5)) {
                case 0 -> b[at] ^= (byte) (1 << rng.nextInt(8));
                case 1 -> b = java.util.Arrays.copyOf(b, at); // truncate
                case 2 -> { // an extreme 32-bit big-endian or 64-bit little-endian integer (lengths, counts)
                    int[] extremes = {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 1 << 30, 255};
                    if (b.length >= 4) {
                        ByteBuffer.wrap(b).putInt(Math.min(at, b.length - 4), extremes[rng.nextInt(extremes.length)]);
                    }
                }
                case 3 -> { // delete a run
                    int len = Math.min(b.length - at, 1 + rng.nextInt(16));
                    byte[] shorter = new byte[b.length - len];
                    System.arraycopy(b, 0, shorter, 0, at);
                    System.arraycopy(b, at + len, shorter, at, b.length - at - len);
                    b = shorter;
                }
                default -> b[at] = (byte) rng.nextInt(256);
            }
        }
        return b;
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    @Test
    void csvReader(@TempDir Path dir) throws IOException {
        byte[] valid = "a,b,label\n0.5,1e-3,1\n-2,3.25,0\n\n7,8,2\n".getBytes(StandardCharsets.UTF_8);
        fuzz(dir, "plain.csv", valid, f -> Csv.readClassification(f, -1), DataException.class);
        fuzz(dir, "zipped.csv.gz", gzip(valid), f -> Csv.readClassification(f, -1), DataException.class);
        fuzz(dir, "targets.csv", valid, f -> Csv.readRegression(f, 1), DataException.class);
    }

    @Test
    void idxReader(@TempDir Path dir) throws IOException {
        int n = 3;
        ByteBuffer images = ByteBuffer.allocate(16 + n * 4 * 4);
        images.putInt(0x00000803).putInt(n).putInt(4).putInt(4);
        for (int i = 0; i < n * 16; i++) {
            images.put((byte) (i * 7));
        }
        ByteBuffer labels = ByteBuffer.allocate(8 + n).putInt(0x00000801).putInt(n).put((byte) 1).put((byte) 0).put((byte) 2);
        Path labelFile = dir.resolve("t-labels-idx1-ubyte");
        Files.write(labelFile, labels.array());
        fuzz(dir, "t-images-idx3-ubyte", images.array(), f -> Idx.read(f, labelFile, 3), DataException.class);
        Path imageFile = dir.resolve("u-images-idx3-ubyte");
        Files.write(imageFile, images.array());
        fuzz(dir, "u-labels-idx1-ubyte", labels.array(), f -> Idx.read(imageFile, f, 3), DataException.class);
        fuzz(dir, "v-images-idx3-ubyte.gz", gzip(images.array()), f -> Idx.read(f, labelFile, 3), DataException.class);
    }

    @Test
    void modelAndCheckpointReaders(@TempDir Path dir) throws IOException {
        Network net = Network.builder(3).dense(4, Activation.TANH).dense(2, Activation.SOFTMAX)
                .loss(Loss.CROSS_ENTROPY).seed(1).build();
        Path model = dir.resolve("valid.safetensors");
        ModelFile.save(net, model, Map.of("note", "fuzz"));
        fuzz(dir, "model.safetensors", Files.readAllBytes(model), ModelFile::load, ModelFileException.class);
        Path ckDir = dir.resolve("ck");
        Files.createDirectories(ckDir);
        CheckpointFile.save(ckDir, new bp.train.TrainingState(2, 3, 1.5, 4, net.parameters().clone(), 7,
                new float[][] {new float[net.parameterCount()]}, null, 0, Double.POSITIVE_INFINITY), Map.of("a", 1));
        byte[] checkpoint = Files.readAllBytes(CheckpointFile.file(ckDir));
        Path fuzzDir = dir.resolve("fuzzed");
        Files.createDirectories(fuzzDir);
        fuzz(fuzzDir, CheckpointFile.FILE_NAME, checkpoint, f -> CheckpointFile.load(f.getParent()),
                ModelFileException.class);
    }

    @Test
    void onnxReader(@TempDir Path dir) throws IOException {
        Network net = Network.builder(3).dense(6, bp.nn.LayerActivation.parse("maxout:2"))
                .dense(2, bp.nn.LayerActivation.parse("prelu")).dense(2, Activation.SOFTMAX).seed(1).build();
        Path model = dir.resolve("valid.onnx");
        OnnxFile.save(net, model, Map.of("note", "fuzz"));
        fuzz(dir, "model.onnx", Files.readAllBytes(model), OnnxFile::load, ModelFileException.class);
    }
}
