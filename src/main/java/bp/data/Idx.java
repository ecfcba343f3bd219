package bp.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.function.IntFunction;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader for IDX files, the MNIST format: two zero bytes, a type byte (only 0x08, unsigned byte,
 * is read here), a dimension count, the dimensions as big-endian 32-bit integers, then the data.
 * Plain or gzip-compressed (recognised by content, not by name). Never allocates more than the file
 * can hold (its size, or for gzip the most that deflate expands it to): a header that declares more
 * is an error found before reading, not an out-of-memory, and one that declares more than the file
 * turns out to hold is an error found while reading.
 */
public final class Idx {

    private static final int UNSIGNED_BYTE = 0x08;

    /** An IDX array: its dimensions and its data (the bytes, or a form read from them). */
    record Array<T>(Path file, int[] dims, T data) {
        int count() {
            return dims[0];
        }

        int itemSize() {
            int s = 1;
            for (int d = 1; d < dims.length; d++) {
                s *= dims[d];
            }
            return s;
        }
    }

    private Idx() {
    }

    /**
     * Reads an image file and its label file into a classification set with pixels scaled to
     * [0, 1] and {@code classes} classes.
     *
     * @param images the image file
     * @param labels the label file
     * @param classes the number of classes
     * @return the set
     */
    public static Dataset read(Path images, Path labels, int classes) {
        Array<float[]> img = readFile(images, float[]::new, Idx::unitFloats);
        Array<byte[]> lab = readArray(labels);
        if (img.dims().length < 2) {
            throw new DataException(images + ": expected an image file with 2 or more dimensions, found "
                    + img.dims().length);
        }
        if (lab.dims().length != 1) {
            throw new DataException(labels + ": expected a label file with 1 dimension, found " + lab.dims().length);
        }
        if (img.count() != lab.count()) {
            throw new DataException(labels + ": " + lab.count() + " labels for " + img.count() + " images in " + images);
        }
        int[] y = new int[lab.count()];
        for (int i = 0; i < y.length; i++) {
            y[i] = lab.data()[i] & 0xFF;
            if (y[i] >= classes) {
                throw new DataException(labels + ": label " + y[i] + " at item " + i + " (byte "
                        + (headerSize(1) + i) + ") is outside 0.." + (classes - 1));
            }
        }
        return Dataset.classification(images.getFileName().toString(), img.data(), img.itemSize(), y, classes);
    }

    /**
     * The largest label in a label file plus one.
     *
     * @param labels a label file
     * @return the number of classes
     */
    public static int classCount(Path labels) {
        Array<byte[]> lab = readArray(labels);
        int max = -1;
        for (byte b : lab.data()) {
            max = Math.max(max, b & 0xFF);
        }
        return max + 1;
    }

    static Array<byte[]> readArray(Path file) {
        return readFile(file, byte[]::new, (block, count, data, at) -> System.arraycopy(block, 0, data, at, count));
    }

    /** Puts a block of the bytes that follow an IDX header into the data array, in whatever form it holds them. */
    private interface Decoder<T> {
        void decode(byte[] block, int count, T data, int at);
    }

    /** The most that deflate expands data (a 1032:1 ratio), which bounds what a gzip file can hold. */
    private static final long MAX_DEFLATE_RATIO = 1032;

    /**
     * Reads an IDX file into an array of {@code allocate(count)}, filled a block at a time as the
     * bytes are read (no copy of the whole data as bytes is made: memory the JVM touches for the
     * first time costs more here than inflating the data).
     */
    private static <T> Array<T> readFile(Path file, IntFunction<T> allocate, Decoder<T> decoder) {
        long fileSize;
        try {
            fileSize = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file");
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (fileSize == 0) {
            throw new DataException(file + ": empty file, expected an IDX header");
        }
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw;
            String what = gzip ? file + " (gzip)" : file.toString();
            byte[] magic = readExactly(in, 4, what, 0);
            if (magic[0] != 0 || magic[1] != 0) {
                throw new DataException(what + ": bad magic number " + hex(magic)
                        + " at byte 0, expected 00 00 08 0N (an IDX file)");
            }
            if ((magic[2] & 0xFF) != UNSIGNED_BYTE) {
                throw new DataException(what + ": data type 0x" + Integer.toHexString(magic[2] & 0xFF)
                        + " at byte 2 is not supported, expected 0x08 (unsigned byte)");
            }
            int dimCount = magic[3] & 0xFF;
            if (dimCount == 0) {
                throw new DataException(what + ": dimension count 0 at byte 3, expected at least 1");
            }
            byte[] header = readExactly(in, 4 * dimCount, what, 4);
            int[] dims = new int[dimCount];
            long total = 1;
            for (int d = 0; d < dimCount; d++) {
                long v = ((header[4 * d] & 0xFFL) << 24) | ((header[4 * d + 1] & 0xFF) << 16)
                        | ((header[4 * d + 2] & 0xFF) << 8) | (header[4 * d + 3] & 0xFF);
                if (v == 0 || v > Integer.MAX_VALUE) {
                    throw new DataException(what + ": dimension " + d + " at byte " + (4 + 4 * d) + " is " + v
                            + ", expected 1.." + Integer.MAX_VALUE);
                }
                dims[d] = (int) v;
                total = total > Integer.MAX_VALUE ? total : total * v; // stays below 2^62: reported, never allocated
            }
            long headerBytes = headerSize(dimCount);
            if (!gzip && headerBytes + total != fileSize) {
                throw new DataException(what + ": header declares " + describe(dims) + " = " + total
                        + " data bytes, but the file holds " + (fileSize - headerBytes) + " after the "
                        + headerBytes + "-byte header" + (headerBytes + total > fileSize ? " (truncated?)" : ""));
            }
            if (total > Integer.MAX_VALUE - 16) {
                throw new DataException(what + ": header declares " + describe(dims) + " = " + total
                        + " data bytes, more than bp reads into one array (2 GiB)");
            }
            // the data goes into an array of its declared size, so that size must be possible
            if (gzip && total > MAX_DEFLATE_RATIO * fileSize) {
                throw new DataException(what + ": header declares " + describe(dims) + " = " + total
                        + " data bytes, more than a gzip file of " + fileSize + " bytes can hold (truncated?)");
            }
            T data = allocate.apply((int) total);
            byte[] block = new byte[1 << 16];
            for (int n = 0; n < total; ) {
                int got = in.read(block, 0, (int) Math.min(block.length, total - n));
                if (got < 0) {
                    throw new DataException(what + ": truncated: header declares " + total + " data bytes, found "
                            + n + " (ends at byte " + (headerBytes + n) + ")");
                }
                decoder.decode(block, got, data, n);
                n += got;
            }
            if (in.read() != -1) {
                throw new DataException(what + ": unexpected data after the " + total
                        + " bytes the header declares (at byte " + (headerBytes + total) + ")");
            }
            return new Array<>(file, dims, data);
        } catch (EOFException | ZipException e) {
            throw new DataException(file + ": truncated or corrupt gzip data (" + e.getMessage() + ")", e);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file");
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Bytes 0..255 as floats 0..1. */
    private static void unitFloats(byte[] block, int count, float[] x, int at) {
        for (int i = 0; i < count; i++) {
            x[at + i] = (block[i] & 0xFF) / 255f;
        }
    }

    private static long headerSize(int dimCount) {
        return 4L + 4L * dimCount;
    }

    private static byte[] readExactly(InputStream in, int n, String what, long position) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new DataException(what + ": truncated header: expected " + n + " bytes at byte " + position
                    + ", found " + b.length);
        }
        return b;
    }

    private static String describe(int[] dims) {
        StringBuilder sb = new StringBuilder();
        for (int d : dims) {
            sb.append(sb.length() == 0 ? "" : " × ").append(d);
        }
        return sb.toString();
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte v : b) {
            sb.append(sb.length() == 0 ? "" : " ").append(String.format("%02x", v & 0xFF));
        }
        return sb.toString();
    }
}
