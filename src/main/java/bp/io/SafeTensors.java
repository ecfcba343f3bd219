package bp.io;

import com.fasterxml.jackson.jr.ob.JSON;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;

/**
 * The safetensors framing shared by model files and checkpoints: an 8-byte little-endian header
 * length, the JSON header padded with spaces to a multiple of 8, then the tensors' bytes.
 */
final class SafeTensors {

    /** The safetensors specification caps the header at 100 MB. */
    static final long MAX_HEADER = 100_000_000L;

    private SafeTensors() {
    }

    /** A file's parsed header and where its data starts in {@code bytes}. */
    record Parsed(Map<String, Object> header, byte[] bytes, int dataStart) {
    }

    /** Writes {@code header} and then the float32 little-endian values of {@code tensors}, atomically. */
    static void write(Path file, byte[] header, Collection<float[]> tensors) {
        int padded = (header.length + 7) / 8 * 8;
        AtomicFiles.write(file, out -> {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(header);
            for (int i = header.length; i < padded; i++) {
                out.write(' ');
            }
            for (float[] v : tensors) {
                ByteBuffer data = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                data.asFloatBuffer().put(v);
                out.write(data.array());
            }
        });
    }

    /** Checks the header length against the file and {@code maxHeader}, and parses the JSON header. */
    static Parsed parse(Path file, byte[] bytes, long maxHeader) {
        if (bytes.length < 8) {
            throw new ModelFileException(file + ": " + bytes.length + " bytes, too short for a safetensors header");
        }
        long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLen < 2 || headerLen > bytes.length - 8 || headerLen > maxHeader) {
            throw new ModelFileException(file + ": header length " + Long.toUnsignedString(headerLen)
                    + " at byte 0 does not fit a file of " + bytes.length + " bytes (not a safetensors file?)");
        }
        int dataStart = 8 + (int) headerLen;
        try {
            return new Parsed(JSON.std.mapFrom(new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8)), bytes,
                    dataStart);
        } catch (IOException | RuntimeException e) {
            throw new ModelFileException(file + ": header (bytes 8.." + dataStart + ") is not valid JSON: "
                    + ModelFile.firstLine(e.getMessage()), e);
        }
    }
}
