package bp.spark;

import bp.train.EvaluationSums;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A stage task's connection to the driver, from the {@link Rendezvous} to the end of the stage:
 * the driver sends the epochs to train (with their learning rate) and the stop; task 0 sends the
 * state every few exchanges (a checkpoint, from which a retried attempt starts) and at the end of
 * each epoch; every task sends the sums of its test blocks after each epoch. Every task holds the
 * same state after an exchange, and every shard's rows come in an order fixed for the epoch, so an
 * attempt that starts from a checkpoint ends with the same model as one that never stopped.
 */
final class DriverLink implements AutoCloseable {

    /** What a task sends the driver, the first byte of each message. */
    static final byte CHECKPOINT = 1;
    static final byte EPOCH_END = 2;
    static final byte EVALUATION = 3;

    /** The only classes an evaluation message may hold (JEP 290): nothing else is deserialized. */
    private static final ObjectInputFilter EVALUATION_CLASSES = ObjectInputFilter.Config.createFilter(
            "bp.train.EvaluationSums;[[J;[J;[[D;[D;maxdepth=4;!*");

    /**
     * An epoch to train.
     *
     * @param epoch from 1
     * @param learningRate the optimizer's, scaled by the run's schedule
     */
    record Command(int epoch, double learningRate) {
    }

    /** A test block's sums, by the block's partition. */
    record BlockSums(int partition, EvaluationSums sums) {
    }

    private final Socket socket;
    private final DataOutputStream out;
    private final DataInputStream in;
    private final int every;

    /**
     * @param driver the connection from the rendezvous
     * @param every exchanges between two checkpoints (task 0), 0 for none
     */
    DriverLink(Socket driver, int every) {
        this.socket = driver;
        this.every = every;
        try {
            driver.setSoTimeout(0); // the driver evaluates and tells its listeners between epochs, as long as it takes
            this.out = new DataOutputStream(new BufferedOutputStream(driver.getOutputStream(), 1 << 16));
            this.in = new DataInputStream(new BufferedInputStream(driver.getInputStream()));
        } catch (IOException e) {
            throw new UncheckedIOException("the task lost the driver", e);
        }
    }

    /** {@return the next epoch to train, or null when the run is over} */
    Command next() {
        try {
            int epoch = in.readInt();
            double lr = in.readDouble();
            return epoch == 0 ? null : new Command(epoch, lr);
        } catch (IOException e) {
            throw new UncheckedIOException("the task lost the driver", e);
        }
    }

    /** Driver side: tells a task to train {@code epoch}, or with 0 that the run is over. */
    static void command(DataOutputStream out, int epoch, double lr) throws IOException {
        out.writeInt(epoch);
        out.writeDouble(lr);
        out.flush();
    }

    /** {@return whether a checkpoint is due after {@code done} of the epoch's {@code total} exchanges} */
    boolean due(int done, int total) {
        return every > 0 && done % every == 0 && done < total;
    }

    /** Sends the state from which the epoch goes on at exchange {@code state.done()}. */
    void sendCheckpoint(MeshTraining.EpochState state) {
        sendState(CHECKPOINT, state);
    }

    /** Sends the state at the end of the epoch. */
    void sendEpochEnd(MeshTraining.EpochState state) {
        sendState(EPOCH_END, state);
    }

    private void sendState(byte kind, MeshTraining.EpochState state) {
        try {
            out.writeByte(kind);
            write(out, state);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("the task could not send its state to the driver", e);
        }
    }

    /** Sends the sums of the task's test blocks, in partition order. */
    void sendEvaluation(List<BlockSums> blocks) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream objects = new ObjectOutputStream(bytes)) {
                for (BlockSums b : blocks) {
                    objects.writeObject(b.sums());
                }
            }
            out.writeByte(EVALUATION);
            out.writeInt(blocks.size());
            for (BlockSums b : blocks) {
                out.writeInt(b.partition());
            }
            out.writeInt(bytes.size());
            bytes.writeTo(out);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("the task could not send its test figures to the driver", e);
        }
    }

    /** Driver side: reads an evaluation message's blocks (after its first byte). */
    static List<BlockSums> readEvaluation(DataInputStream in) throws IOException {
        int[] partitions = new int[in.readInt()];
        for (int i = 0; i < partitions.length; i++) {
            partitions[i] = in.readInt();
        }
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        List<BlockSums> blocks = new ArrayList<>(partitions.length);
        try (ObjectInputStream objects = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
            objects.setObjectInputFilter(EVALUATION_CLASSES);
            for (int p : partitions) {
                blocks.add(new BlockSums(p, (EvaluationSums) objects.readObject()));
            }
        } catch (ClassNotFoundException | ClassCastException e) {
            throw new IOException("a task sent test figures the driver cannot read", e);
        }
        return blocks;
    }

    static void write(DataOutputStream out, MeshTraining.EpochState s) throws IOException {
        out.writeInt(s.epoch());
        out.writeInt(s.done());
        out.writeDouble(s.lossSum());
        out.writeLong(s.correct());
        out.writeLong(s.steps());
        out.writeInt(s.buffers().length);
        writeFloats(out, s.parameters());
        for (float[] b : s.buffers()) {
            writeFloats(out, b);
        }
    }

    /** Driver side: reads a state (after its message's first byte). */
    static MeshTraining.EpochState read(DataInputStream in) throws IOException {
        int epoch = in.readInt();
        int done = in.readInt();
        double loss = in.readDouble();
        long correct = in.readLong();
        long steps = in.readLong();
        float[][] buffers = new float[in.readInt()][];
        float[] parameters = readFloats(in);
        for (int b = 0; b < buffers.length; b++) {
            buffers[b] = readFloats(in);
        }
        return new MeshTraining.EpochState(parameters, steps, buffers, epoch, done, loss, correct);
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
        try {
            socket.close();
        } catch (IOException e) {
            // the driver has what it has
        }
    }
}
