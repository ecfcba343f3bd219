package bp.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.stream.DoubleStream;
import java.util.stream.LongStream;

/**
 * The protocol-buffers wire format, as much as ONNX files need: a writer that appends fields to
 * a byte array, and a reader over a byte range that checks every length against the bytes that
 * are really there before it slices or allocates, so a corrupted or hostile file can only fail
 * with {@link Malformed}, never allocate what it claims or read past its end.
 */
final class Protobuf {

    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH = 2;
    static final int FIXED32 = 5;

    private Protobuf() {
    }

    /** Input that is not valid protobuf; the message says where (byte offset and field path). */
    static final class Malformed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /** Bytes {@code [from, from + length)} of {@code bytes}: a field's payload, not copied. */
    record Slice(byte[] bytes, int from, int length) {
        ByteBuffer littleEndian() {
            return ByteBuffer.wrap(bytes, from, length).slice().order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** Appends fields; a nested message is written into its own writer, then added with {@link #message}. */
    static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Writer varint(int field, long value) {
            tag(field, VARINT);
            rawVarint(value);
            return this;
        }

        Writer float32(int field, float value) {
            tag(field, FIXED32);
            int bits = Float.floatToRawIntBits(value);
            for (int i = 0; i < 4; i++) {
                out.write(bits >>> (8 * i));
            }
            return this;
        }

        Writer string(int field, String value) {
            return bytes(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Writer bytes(int field, byte[] value) {
            tag(field, LENGTH);
            rawVarint(value.length);
            out.writeBytes(value);
            return this;
        }

        Writer message(int field, Writer message) {
            return bytes(field, message.toByteArray());
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }

        private void tag(int field, int wireType) {
            rawVarint((long) field << 3 | wireType);
        }

        private void rawVarint(long value) {
            while ((value & ~0x7FL) != 0) {
                out.write((int) (value & 0x7F) | 0x80);
                value >>>= 7;
            }
            out.write((int) value);
        }
    }

    /**
     * Reads the fields of one message, bytes {@code [from, to)} of a buffer: {@link #next()} moves
     * to the next field, then exactly one of the value methods (or {@link #skip()}) consumes it.
     */
    static final class Reader {
        private final byte[] b;
        private final int end;
        private final String where;
        private int pos;
        private int tag;

        Reader(byte[] bytes, int from, int to, String where) {
            this.b = bytes;
            this.pos = from;
            this.end = to;
            this.where = where;
        }

        /** Whether another field follows; reads its tag. */
        boolean next() {
            if (pos >= end) {
                return false;
            }
            int at = pos;
            long t = rawVarint();
            int wire = (int) (t & 7);
            if (t >>> 3 == 0 || t >>> 3 > 0x1FFFFFFF || (wire != VARINT && wire != FIXED64 && wire != LENGTH
                    && wire != FIXED32)) {
                throw malformed(at, "invalid field tag " + t);
            }
            tag = (int) t;
            return true;
        }

        int field() {
            return tag >>> 3;
        }

        long varint() {
            expect(VARINT);
            return rawVarint();
        }

        float float32() {
            expect(FIXED32);
            need(4);
            float v = ByteBuffer.wrap(b, pos, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
            pos += 4;
            return v;
        }

        String string() {
            Slice s = bytes();
            return new String(s.bytes(), s.from(), s.length(), StandardCharsets.UTF_8);
        }

        Slice bytes() {
            int len = length();
            Slice s = new Slice(b, pos, len);
            pos += len;
            return s;
        }

        /** The nested message in this field; {@code name} extends the path named in errors. */
        Reader message(String name) {
            int len = length();
            Reader r = new Reader(b, pos, pos + len, where + "." + name);
            pos += len;
            return r;
        }

        /**
         * A repeated float field, packed or not, appended to {@code values} (as doubles, which hold
         * every float exactly: the JDK has no float stream): they grow only by values really read,
         * so their size is bounded by the file's.
         */
        void floats(DoubleStream.Builder values) {
            if ((tag & 7) == LENGTH) {
                int len = length();
                if (len % 4 != 0) {
                    throw malformed(pos, "packed floats of " + len + " bytes, not a multiple of 4");
                }
                ByteBuffer buf = ByteBuffer.wrap(b, pos, len).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < len / 4; i++) {
                    values.add(buf.getFloat());
                }
                pos += len;
            } else {
                values.add(float32());
            }
        }

        /** A repeated integer field, packed or not, appended to {@code values}. */
        void varints(LongStream.Builder values) {
            if ((tag & 7) == LENGTH) {
                int len = length();
                int stop = pos + len;
                while (pos < stop) {
                    values.add(rawVarint(stop));
                }
            } else {
                values.add(varint());
            }
        }

        void skip() {
            switch (tag & 7) {
                case VARINT -> rawVarint();
                case FIXED64 -> {
                    need(8);
                    pos += 8;
                }
                case FIXED32 -> {
                    need(4);
                    pos += 4;
                }
                default -> bytes();
            }
        }

        Malformed malformed(int at, String what) {
            return new Malformed("byte " + at + " (in " + where + "): " + what + " (truncated or corrupted file?)");
        }

        private void expect(int wireType) {
            if ((tag & 7) != wireType) {
                throw malformed(pos, "field " + field() + " has wire type " + (tag & 7) + ", expected " + wireType);
            }
        }

        private int length() {
            expect(LENGTH);
            int at = pos;
            long len = rawVarint();
            if (len < 0 || len > end - pos) {
                throw malformed(at, "a length of " + Long.toUnsignedString(len) + " bytes runs past the "
                        + (end - pos) + " bytes left");
            }
            return (int) len;
        }

        private void need(int n) {
            if (end - pos < n) {
                throw malformed(pos, n + " bytes needed, " + (end - pos) + " left");
            }
        }

        private long rawVarint() {
            return rawVarint(end);
        }

        private long rawVarint(int stop) {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= stop) {
                    throw malformed(pos, "a number runs past the end of its message");
                }
                byte x = b[pos++];
                v |= (long) (x & 0x7F) << shift;
                if (x >= 0) {
                    return v;
                }
            }
            throw malformed(pos, "a number longer than 10 bytes");
        }
    }
}
