package bp.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxTest {

    @TempDir
    Path dir;

    static byte[] idx(int type, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(data);
        return b.array();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    Path write(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    /** Three 2×2 images and their labels. */
    byte[] images() {
        return idx(8, new int[] {3, 2, 2}, new byte[] {0, (byte) 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, (byte) 128});
    }

    byte[] labels() {
        return idx(8, new int[] {3}, new byte[] {2, 0, 1});
    }

    String error(Path images, Path labels) {
        return assertThrows(DataException.class, () -> Idx.read(images, labels, 10)).getMessage();
    }

    @Test
    void readsPlainAndGzipAlike() throws IOException {
        Dataset plain = Idx.read(write("i", images()), write("l", labels()), 3);
        Dataset gz = Idx.read(write("i.gz", gzip(images())), write("l.gz", gzip(labels())), 3);
        assertEquals(3, plain.size());
        assertEquals(4, plain.featureCount());
        assertEquals(1f, plain.features()[1]);
        assertEquals(0.2f, plain.features()[2]);
        assertEquals(2, plain.label(0));
        assertEquals(1, plain.label(2));
        assertTrue(Arrays.equals(plain.features(), gz.features()));
        assertTrue(Arrays.equals(plain.targets(), gz.targets()));
    }

    @Test
    void readsTheBundledFashionMnist() {
        DataSources.TrainTest f = DataSources.load("fashion-mnist");
        assertEquals(60000, f.train().size());
        assertEquals(10000, f.test().size());
        assertEquals(784, f.train().featureCount());
        assertEquals(10, f.train().classCount());
        assertEquals(9, f.train().label(0)); // the first training image is an ankle boot
    }

    @Test
    void emptyFile() throws IOException {
        assertTrue(error(write("e", new byte[0]), write("l", labels())).contains("empty file"));
    }

    @Test
    void wrongMagic() throws IOException {
        byte[] bad = images();
        bad[0] = 0x50;
        String m = error(write("bad", bad), write("l", labels()));
        assertTrue(m.contains("bad magic number 50 00 08 03 at byte 0"), m);
    }

    @Test
    void unsupportedType() throws IOException {
        byte[] bad = images();
        bad[2] = 0x0D;
        assertTrue(error(write("bad", bad), write("l", labels())).contains("data type 0xd at byte 2"));
    }

    @Test
    void truncatedPlainFile() throws IOException {
        byte[] img = images();
        String m = error(write("t", Arrays.copyOf(img, img.length - 3)), write("l", labels()));
        assertTrue(m.contains("declares 3 × 2 × 2 = 12 data bytes, but the file holds 9") && m.contains("truncated"), m);
    }

    @Test
    void oversizedPlainFile() throws IOException {
        byte[] img = images();
        String m = error(write("o", Arrays.copyOf(img, img.length + 5)), write("l", labels()));
        assertTrue(m.contains("the file holds 17"), m);
    }

    @Test
    void truncatedHeader() throws IOException {
        String m = error(write("h", Arrays.copyOf(images(), 9)), write("l", labels()));
        assertTrue(m.contains("truncated header: expected 12 bytes at byte 4, found 5"), m);
    }

    @Test
    void truncatedGzip() throws IOException {
        byte[] gz = gzip(images());
        String m = error(write("t.gz", Arrays.copyOf(gz, gz.length - 12)), write("l", labels()));
        assertTrue(m.contains("t.gz") && (m.contains("truncated") || m.contains("corrupt")), m);
    }

    @Test
    void gzipWithFewerBytesThanDeclared() throws IOException {
        byte[] img = images();
        String m = error(write("s.gz", gzip(Arrays.copyOf(img, img.length - 4))), write("l", labels()));
        assertTrue(m.contains("(gzip): truncated: header declares 12 data bytes, found 8"), m);
    }

    @Test
    void headerClaimingTwoToThe31ItemsAllocatesNothing() throws IOException {
        byte[] huge = idx(8, new int[] {Integer.MAX_VALUE, 28, 28}, new byte[100]);
        String plain = error(write("huge", huge), write("l", labels()));
        assertTrue(plain.contains("declares 2147483647 × 28 × 28"), plain);
        String gz = error(write("huge.gz", gzip(huge)), write("l", labels()));
        assertTrue(gz.contains("more than bp reads into one array"), gz);
        byte[] large = idx(8, new int[] {1 << 20, 28, 28}, new byte[100]);
        String gzLarge = error(write("large.gz", gzip(large)), write("l", labels()));
        assertTrue(gzLarge.contains("= 822083584 data bytes, more than a gzip file of " + Files.size(dir.resolve("large.gz"))
                + " bytes can hold"), gzLarge);
        // within deflate's ratio: allocated, then found short while reading
        byte[] short1 = idx(8, new int[] {16, 28, 28}, new byte[100]);
        String gzShort = error(write("short.gz", gzip(short1)), write("l", labels()));
        assertTrue(gzShort.contains("truncated: header declares 12544 data bytes, found 100 (ends at byte 116)"), gzShort);
    }

    @Test
    void negativeOrZeroDimension() throws IOException {
        String m = error(write("z", idx(8, new int[] {0, 2, 2}, new byte[0])), write("l", labels()));
        assertTrue(m.contains("dimension 0 at byte 4 is 0"), m);
        String n = error(write("n", idx(8, new int[] {-1, 2, 2}, new byte[0])), write("l", labels()));
        assertTrue(n.contains("dimension 0 at byte 4 is 4294967295"), n);
    }

    @Test
    void labelCountMismatch() throws IOException {
        Path l = write("l2", idx(8, new int[] {2}, new byte[] {1, 2}));
        String m = error(write("i", images()), l);
        assertTrue(m.contains("2 labels for 3 images"), m);
    }

    @Test
    void labelOutOfRange() throws IOException {
        Path l = write("l3", idx(8, new int[] {3}, new byte[] {1, 12, 2}));
        String m = error(write("i", images()), l);
        assertTrue(m.contains("label 12 at item 1 (byte 9) is outside 0..9"), m);
    }

    @Test
    void labelFileGivenAsImages() throws IOException {
        String m = error(write("l", labels()), write("l", labels()));
        assertTrue(m.contains("expected an image file with 2 or more dimensions"), m);
    }

    @Test
    void missingFile() {
        String m = error(dir.resolve("nope"), dir.resolve("nope2"));
        assertTrue(m.endsWith("nope: no such file"), m);
    }
}
