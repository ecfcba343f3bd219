package bp.spark;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The state a stage's task 0 sends the driver every few exchanges of an epoch, over its
 * connection from the {@link Rendezvous}: the parameters, the optimizer's state, the loss and
 * correct rows so far, and the exchange to go on from. Every task holds the same state after an
 * exchange, and every shard's rows come in an order fixed for the epoch, so an attempt that starts
 * from a checkpoint ends with the same model as one that never stopped.
 */
final class Checkpoints implements AutoCloseable {

    private final Socket socket;
    private final DataOutputStream out;
    private final int every;

    /**
     * @param driver task 0's connection to the driver, or null (other tasks send none)
     * @param every exchanges between two checkpoints, 0 for none
     */
    Checkpoints(Socket driver, int every) {
        this.socket = driver;
        this.every = every;
        try {
            this.out = driver == null ? null
                    : new DataOutputStream(new BufferedOutputStream(driver.getOutputStream(), 1 << 16));
        } catch (IOException e) {
            throw new UncheckedIOException("task 0 lost the driver", e);
        }
    }

    /** {@return whether this task sends a checkpoint after {@code done} of the epoch's {@code total} exchanges} */
    boolean due(int done, int total) {
        return out != null && every > 0 && done % every == 0 && done < total;
    }

    /** Sends the state from which the epoch goes on at exchange {@code state.from()}. */
    void send(MeshTraining.Start state) {
        try {
            write(out, state);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("task 0 could not send a checkpoint to the driver", e);
        }
    }

    static void write(DataOutputStream out, MeshTraining.Start s) throws IOException {
        out.writeInt(s.epoch());
        out.writeInt(s.from());
        out.writeDouble(s.lossSum());
        out.writeLong(s.correct());
        out.writeLong(s.steps());
        out.writeInt(s.buffers().length);
        writeFloats(out, s.parameters());
        for (float[] b : s.buffers()) {
            writeFloats(out, b);
        }
    }

    /** A checkpoint, without the optimizer (the driver has it: the epoch's own). */
    static MeshTraining.Start read(DataInputStream in) throws IOException {
        int epoch = in.readInt();
        int from = in.readInt();
        double loss = in.readDouble();
        long correct = in.readLong();
        long steps = in.readLong();
        float[][] buffers = new float[in.readInt()][];
        float[] parameters = readFloats(in);
        for (int b = 0; b < buffers.length; b++) {
            buffers[b] = readFloats(in);
        }
        return new MeshTraining.Start(parameters, steps, buffers, null, epoch, from, loss, correct);
    }

    private static void writeFloats(DataOutputStream out, float[] values) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        out.writeInt(values.length);
        out.write(bytes.array());
    }

    private static float[] readFloats(DataInputStream in) throws IOException {
        byte[] bytes = new byte[in.readInt() * Float.BYTES];
        in.readFully(bytes);
        float[] values = new float[bytes.length / Float.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                // the driver has what it has
            }
        }
    }
}
