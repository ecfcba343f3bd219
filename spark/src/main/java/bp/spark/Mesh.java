package bp.spark;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Connections between every pair of a barrier stage's tasks, for the all-reduce. Each task
 * listens on an ephemeral port only until its peers have connected; the addresses go through
 * Spark's {@code allGather} (small strings through the driver), the gradients through these
 * sockets. A connection must open with the stage's secret, compared in constant time, or it is
 * dropped. A thread per peer reads its messages into one inbox, so that two tasks sending to each
 * other at once never block each other.
 */
final class Mesh implements AutoCloseable {

    /** How long a peer may take to connect or to send a step's message before the task fails. */
    private static final long TIMEOUT_SECONDS = 600;

    /**
     * A message: a piece of a vector with a small header.
     *
     * @param tag what the piece is (the all-reduce's: a shard's number, or a chunk's)
     * @param rows rows behind it
     * @param loss their summed loss
     * @param correct their correctly classified rows
     * @param values the piece
     */
    record Message(int tag, int rows, double loss, long correct, float[] values) {
    }

    private final int me;
    private final Socket[] outgoing;
    private final DataOutputStream[] out;
    private final Socket[] incoming;
    private final BlockingQueue<Object> inbox = new ArrayBlockingQueue<>(4096);
    /** Arrays of messages the receiver is done with, for the readers to fill again: a step allocates nothing. */
    private final BlockingQueue<float[]> spare = new ArrayBlockingQueue<>(4096);
    /** Each peer's send buffer, reused. */
    private final ByteBuffer[] sending;

    private Mesh(int me, int size) {
        this.me = me;
        this.outgoing = new Socket[size];
        this.out = new DataOutputStream[size];
        this.incoming = new Socket[size];
        this.sending = new ByteBuffer[size];
    }

    /** The listening socket of a task, before the addresses are exchanged. */
    static ServerSocket listen(String host) {
        try {
            ServerSocket server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getByName(host), 0), 64);
            server.setSoTimeout((int) TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + host, e);
        }
    }

    /**
     * Connects task {@code me} to every other: an outgoing connection to each peer's address and an
     * incoming one from each, then closes the listening socket.
     */
    static Mesh connect(int me, String[] addresses, ServerSocket server, byte[] secret) {
        Mesh mesh = new Mesh(me, addresses.length);
        try (server) {
            for (int peer = 0; peer < addresses.length; peer++) {
                if (peer != me) {
                    mesh.dial(peer, addresses[peer], secret);
                }
            }
            int accepted = 0;
            while (accepted < addresses.length - 1) {
                accepted += mesh.accept(server, secret) ? 1 : 0;
            }
            return mesh;
        } catch (IOException e) {
            mesh.close();
            throw new UncheckedIOException("task " + me + " could not reach its peers", e);
        }
    }

    private void dial(int peer, String address, byte[] secret) throws IOException {
        int colon = address.lastIndexOf(':');
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
                (int) TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        outgoing[peer] = s;
        out[peer] = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16));
        out[peer].write(secret);
        out[peer].writeInt(me);
        out[peer].flush();
    }

    /** Accepts a connection; whether it presented the secret and a peer's number not seen before. */
    private boolean accept(ServerSocket server, byte[] secret) throws IOException {
        Socket s = server.accept();
        s.setTcpNoDelay(true);
        s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 16));
        byte[] presented = new byte[secret.length];
        int peer;
        try {
            in.readFully(presented);
            peer = in.readInt();
        } catch (IOException e) {
            s.close();
            return false;
        }
        if (!MessageDigest.isEqual(presented, secret) || peer < 0 || peer >= incoming.length || peer == me
                || incoming[peer] != null) {
            s.close(); // not one of this stage's tasks
            return false;
        }
        incoming[peer] = s;
        Thread.ofPlatform().daemon().name("bp-mesh-" + me + "<" + peer).start(() -> read(peer, in));
        return true;
    }

    private void read(int peer, DataInputStream in) {
        byte[] bytes = new byte[0];
        try {
            while (true) {
                int tag = in.readInt();
                int rows = in.readInt();
                double loss = in.readDouble();
                long correct = in.readLong();
                int len = in.readInt();
                if (bytes.length < len * Float.BYTES) {
                    bytes = new byte[len * Float.BYTES];
                }
                in.readFully(bytes, 0, len * Float.BYTES);
                float[] values = spareArray(len);
                ByteBuffer.wrap(bytes, 0, len * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
                inbox.put(new Message(tag, rows, loss, correct, values));
            }
        } catch (IOException | InterruptedException e) {
            if (!closed) {
                inbox.offer(new IllegalStateException("task " + me + " lost task " + peer + ": " + e));
            }
        }
    }

    /** A spare array of {@code len} floats (the all-reduce's pieces all have one of a few lengths), or a new one. */
    private float[] spareArray(int len) {
        for (int tries = spare.size(); tries > 0; tries--) {
            float[] a = spare.poll();
            if (a == null) {
                break;
            }
            if (a.length == len) {
                return a;
            }
            spare.offer(a);
        }
        return new float[len];
    }

    /** Hands back a received message's array once its values have been used. */
    void recycle(float[] values) {
        spare.offer(values);
    }

    /** Sends {@code values[off, off + len)} with its header to {@code peer}. */
    void send(int peer, int tag, int rows, double loss, long correct, float[] values, int off, int len) {
        try {
            DataOutputStream o = out[peer];
            o.writeInt(tag);
            o.writeInt(rows);
            o.writeDouble(loss);
            o.writeLong(correct);
            o.writeInt(len);
            ByteBuffer bytes = sending[peer];
            if (bytes == null || bytes.capacity() < len * Float.BYTES) {
                bytes = sending[peer] = ByteBuffer.allocate(len * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            }
            bytes.clear();
            bytes.asFloatBuffer().put(values, off, len);
            o.write(bytes.array(), 0, len * Float.BYTES);
            o.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("task " + me + " lost task " + peer, e);
        }
    }

    /** The next message from any peer. */
    Message receive() {
        try {
            Object m = inbox.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (m instanceof Message message) {
                return message;
            }
            throw m == null ? new IllegalStateException("task " + me + " had no message in " + TIMEOUT_SECONDS + " s")
                    : (IllegalStateException) m;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("task " + me + " was interrupted", e);
        }
    }

    private volatile boolean closed;

    @Override
    public void close() {
        closed = true;
        for (Socket[] sockets : new Socket[][] {outgoing, incoming}) {
            for (Socket s : sockets) {
                if (s != null) {
                    try {
                        s.close();
                    } catch (IOException e) {
                        // closing anyway
                    }
                }
            }
        }
    }
}
