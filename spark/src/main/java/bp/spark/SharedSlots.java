package bp.spark;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Messages in memory shared by two tasks on one host, for one direction of their connection, as
 * MPI, Gloo and NCCL move data within a node: a ring of slots, each a header and a body. The
 * sender writes a message into the next slot and publishes it by its number; the receiver polls
 * for that number, reads the body where it lies (adding straight from it saves copying 2 MB out
 * a step) and hands the slot back by writing the number into the slot's acknowledgement. No
 * system call and no thread wake-up lies on the way: on loopback TCP every byte is copied into
 * the kernel and out again, and a blocked reader thread wakes 0.1-0.2 ms after the data came.
 *
 * <p>Only the sender writes a slot's number, header and body; only the receiver writes its
 * acknowledgement, on a cache line of its own. The slots are a file in {@code /dev/shm}
 * (owner-only), created by the sender and deleted by the receiver as soon as it has mapped it.
 * Closing truncates it: tmpfs frees the pages at once, though a mapping's address range lasts
 * until the collector drops the buffer.
 */
final class SharedSlots implements AutoCloseable {

    /** Where shared memory files go (Linux). */
    static final Path DIR = Path.of("/dev/shm");
    /** How their names start; the creator's process id and a dash follow. */
    static final String PREFIX = "bp-mesh-";

    /** A slot's header: the message's number, tag, rows, loss, correct rows and length; the acknowledgement at 64. */
    private static final int NUMBER = 0;
    private static final int TAG = 8;
    private static final int ROWS = 12;
    private static final int LOSS = 16;
    private static final int CORRECT = 24;
    private static final int LENGTH = 32;
    private static final int ACK = 64;
    private static final int HEADER_BYTES = 128;

    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final FileChannel channel;
    private final ByteBuffer map;
    private final FloatBuffer floats;
    private final int slots;
    private final int slotFloats;
    private final int slotBytes;
    /** Whether this side created the file: it frees the pages when it closes. */
    private final boolean sender;
    /** Messages written (the sender's side) or taken (the receiver's); message n goes to slot (n − 1) mod slots. */
    private long count;

    private SharedSlots(Path file, FileChannel channel, int slots, int slotFloats, boolean sender) throws IOException {
        this.file = file;
        this.sender = sender;
        this.channel = channel;
        this.slots = slots;
        this.slotFloats = slotFloats;
        this.slotBytes = slotBytes(slotFloats);
        MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes(slots, slotFloats));
        this.map = mapped.order(ByteOrder.LITTLE_ENDIAN);
        this.floats = map.asFloatBuffer();
    }

    /** A slot's bytes, a whole number of cache lines. */
    private static int slotBytes(int slotFloats) {
        return HEADER_BYTES + (slotFloats * Float.BYTES + 63) / 64 * 64;
    }

    private static long bytes(int slots, int slotFloats) {
        return (long) slots * slotBytes(slotFloats);
    }

    /**
     * The sender's side: a new file of {@code slots} slots of {@code slotFloats} floats. Its pages
     * are written through the channel, not the mapping, so that a full {@code /dev/shm} fails here
     * with an IOException rather than later with a fault in the mapping.
     */
    static SharedSlots create(int slots, int slotFloats) throws IOException {
        sweepOrphans();
        Path file = Files.createTempFile(DIR, PREFIX + ProcessHandle.current().pid() + "-", "",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 16);
            for (long at = 0, size = bytes(slots, slotFloats); at < size; ) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), size - at));
                at += channel.write(zeros, at);
            }
            return new SharedSlots(file, channel, slots, slotFloats, true);
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close();
            }
            Files.deleteIfExists(file);
            throw e;
        }
    }

    /**
     * Deletes the files of senders that died before their receiver mapped (and so deleted) them: a
     * JVM killed in that moment closes nothing, and tmpfs would keep the pages until a reboot. A
     * file's name carries its creator's process id; a file whose process is alive, or that
     * another user owns, stays.
     */
    static void sweepOrphans() {
        try (var files = Files.newDirectoryStream(DIR, PREFIX + "*")) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                int dash = name.indexOf('-', PREFIX.length());
                try {
                    long pid = Long.parseLong(name.substring(PREFIX.length(), dash));
                    if (ProcessHandle.of(pid).isEmpty()) {
                        Files.deleteIfExists(f);
                    }
                } catch (NumberFormatException | IndexOutOfBoundsException | IOException e) {
                    // not one of ours, or not ours to delete
                }
            }
        } catch (IOException e) {
            // nothing to sweep here
        }
    }

    /** The receiver's side: maps the sender's file (it writes the acknowledgements) and deletes its name. */
    static SharedSlots open(String path, int slots, int slotFloats) throws IOException {
        Path file = Path.of(path);
        if (!file.getParent().equals(DIR) || !file.getFileName().toString().startsWith(PREFIX)) {
            throw new IOException("not a mesh file: " + path);
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            if (channel.size() != bytes(slots, slotFloats)) {
                throw new IOException(path + " has " + channel.size() + " bytes, not " + bytes(slots, slotFloats));
            }
            SharedSlots s = new SharedSlots(file, channel, slots, slotFloats, false);
            Files.deleteIfExists(file);
            return s;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** {@return the file's path, for the receiver} */
    String path() {
        return file.toString();
    }

    /** {@return whether a body of {@code len} floats fits a slot} */
    boolean fits(int len) {
        return len <= slotFloats;
    }

    private int slotOf(long number) {
        return (int) ((number - 1) % slots) * slotBytes;
    }

    /** The sender's side: whether the receiver has handed back the slot of the next message. */
    boolean writable() {
        long next = count + 1;
        return next <= slots || (long) LONGS.getAcquire(map, slotOf(next) + ACK) >= next - slots;
    }

    /** The sender's side: writes the next message into its slot, which must be {@link #writable}, and publishes it. */
    void write(int tag, int rows, double loss, long correct, float[] values, int off, int len) {
        long number = ++count;
        int at = slotOf(number);
        floats.put((at + HEADER_BYTES) / Float.BYTES, values, off, len);
        map.putInt(at + TAG, tag).putInt(at + ROWS, rows).putDouble(at + LOSS, loss).putLong(at + CORRECT, correct)
                .putInt(at + LENGTH, len);
        LONGS.setRelease(map, at + NUMBER, number);
    }

    /** The receiver's side: whether the next message has come; its header can then be read. */
    boolean readable() {
        long next = count + 1;
        return (long) LONGS.getAcquire(map, slotOf(next) + NUMBER) == next;
    }

    int nextTag() {
        return map.getInt(slotOf(count + 1) + TAG);
    }

    int nextRows() {
        return map.getInt(slotOf(count + 1) + ROWS);
    }

    double nextLoss() {
        return map.getDouble(slotOf(count + 1) + LOSS);
    }

    long nextCorrect() {
        return map.getLong(slotOf(count + 1) + CORRECT);
    }

    int nextLength() {
        return map.getInt(slotOf(count + 1) + LENGTH);
    }

    /** The receiver's side: takes the next message, which is {@link #readable}; {@return its number} */
    long take() {
        return ++count;
    }

    /** Copies floats {@code [from, from + n)} of message {@code number}'s body into {@code out[outOff, …)}. */
    void copy(long number, int from, float[] out, int outOff, int n) {
        floats.get((slotOf(number) + HEADER_BYTES) / Float.BYTES + from, out, outOff, n);
    }

    /** The receiver is done with message {@code number}: its slot goes back to the sender. */
    void release(long number) {
        LONGS.setRelease(map, slotOf(number) + ACK, number);
    }

    /** Frees the memory (the pages go with the truncation) and deletes the file if it is still there. */
    @Override
    public void close() {
        try (channel) {
            if (channel.isOpen() && sender) {
                channel.truncate(0);
            }
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // nothing more to free
        }
    }
}
