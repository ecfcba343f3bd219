package bp.spark;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Message bodies in memory shared by two tasks on one host, for one direction of their
 * connection, as MPI, Gloo and NCCL move data within a node: the sender copies a body into a
 * free slot and sends only its header over the socket; the receiver copies the body out and
 * hands the slot back with an acknowledgement. On loopback TCP every byte is copied into the
 * kernel and out again; here it is copied once each way, in user space.
 *
 * <p>The slots are a file in {@code /dev/shm} (owner-only), created by the sender and deleted by
 * the receiver as soon as it has mapped it. Closing truncates it: tmpfs frees the pages at once,
 * though a mapping's address range lasts until the collector drops the buffer.
 */
final class SharedSlots implements AutoCloseable {

    /** Where shared memory files go (Linux). */
    static final Path DIR = Path.of("/dev/shm");

    private final Path file;
    private final FileChannel channel;
    private final FloatBuffer floats;
    private final int slotFloats;
    /** The sender's free slots; null on the receiver's side. */
    private final BlockingQueue<Integer> free;

    private SharedSlots(Path file, FileChannel channel, int slots, int slotFloats, boolean sender) throws IOException {
        this.file = file;
        this.channel = channel;
        this.slotFloats = slotFloats;
        ByteBuffer map = channel.map(sender ? FileChannel.MapMode.READ_WRITE : FileChannel.MapMode.READ_ONLY, 0,
                bytes(slots, slotFloats));
        this.floats = map.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        this.free = sender ? new ArrayBlockingQueue<>(slots) : null;
        for (int i = 0; sender && i < slots; i++) {
            free.add(i);
        }
    }

    private static long bytes(int slots, int slotFloats) {
        return (long) slots * slotFloats * Float.BYTES;
    }

    /**
     * The sender's side: a new file of {@code slots} slots of {@code slotFloats} floats. Its pages
     * are written through the channel, not the mapping, so that a full {@code /dev/shm} fails here
     * with an IOException rather than later with a fault in the mapping.
     */
    static SharedSlots create(int slots, int slotFloats) throws IOException {
        Path file = Files.createTempFile(DIR, "bp-mesh-", "",
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

    /** The receiver's side: maps the sender's file and deletes its name. */
    static SharedSlots open(String path, int slots, int slotFloats) throws IOException {
        Path file = Path.of(path);
        if (!file.getParent().equals(DIR) || !file.getFileName().toString().startsWith("bp-mesh-")) {
            throw new IOException("not a mesh file: " + path);
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
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

    /** {@return a free slot, waiting for one at most {@code millis} ms, or −1} */
    int take(long millis) throws InterruptedException {
        Integer slot = free.poll(millis, TimeUnit.MILLISECONDS);
        return slot == null ? -1 : slot;
    }

    /** Copies {@code values[off, off + len)} into {@code slot}, which the sender has {@link #take taken}. */
    void put(int slot, float[] values, int off, int len) {
        floats.put(slot * slotFloats, values, off, len);
    }

    /** Copies a body of {@code len} floats out of {@code slot}. */
    void get(int slot, float[] out, int len) {
        floats.get(slot * slotFloats, out, 0, len);
    }

    /** The receiver is done with {@code slot} (the sender's side). */
    void release(int slot) {
        free.add(slot);
    }

    /** Frees the memory (the pages go with the truncation) and deletes the file if it is still there. */
    @Override
    public void close() {
        try (channel) {
            if (channel.isOpen() && free != null) {
                channel.truncate(0);
            }
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // nothing more to free
        }
    }
}
