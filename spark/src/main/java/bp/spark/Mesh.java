package bp.spark;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
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
    static final long TIMEOUT_SECONDS = 600;

    /** The tag of a task's last message to each peer. */
    private static final int DONE = Integer.MIN_VALUE;

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

    /** A message's header: tag, rows, loss, correct, length. */
    private static final int HEADER_BYTES = 4 + 4 + 8 + 8 + 4;

    /** How long a connection may take to present the secret before it is dropped. */
    private static final int HELLO_MILLIS = 30_000;

    private final int me;
    private final SocketChannel[] outgoing;
    private final SocketChannel[] incoming;
    private final BlockingQueue<Object> inbox = new ArrayBlockingQueue<>(4096);
    /** Arrays of messages the receiver is done with, for the readers to fill again: a step allocates nothing. */
    private final BlockingQueue<float[]> spare = new ArrayBlockingQueue<>(4096);
    /**
     * Each peer's send buffer, reused. Direct: a socket copies a heap array through a native
     * buffer first (measured on loopback: 2.0 GB/s through streams, 4.2 GB/s from direct buffers).
     */
    private final ByteBuffer[] sending;
    /** Counts down as each peer says it sends nothing more. */
    private final CountDownLatch peersDone;

    private Mesh(int me, int size) {
        this.me = me;
        this.peersDone = new CountDownLatch(size - 1);
        this.outgoing = new SocketChannel[size];
        this.incoming = new SocketChannel[size];
        this.sending = new ByteBuffer[size];
    }

    /** The listening socket of a task, before the addresses are exchanged. */
    static ServerSocket listen(String host) {
        try {
            ServerSocket server = ServerSocketChannel.open().socket();
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
        SocketChannel c = SocketChannel.open();
        outgoing[peer] = c;
        c.socket().setTcpNoDelay(true);
        c.socket().connect(new InetSocketAddress(address.substring(0, colon),
                Integer.parseInt(address.substring(colon + 1))), (int) TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        ByteBuffer hello = ByteBuffer.allocate(secret.length + 4).put(secret).putInt(me).flip();
        while (hello.hasRemaining()) {
            c.write(hello);
        }
    }

    /** Accepts a connection; whether it presented the secret and a peer's number not seen before. */
    private boolean accept(ServerSocket server, byte[] secret) throws IOException {
        Socket s = server.accept();
        s.setTcpNoDelay(true);
        s.setSoTimeout(HELLO_MILLIS);
        // unbuffered, through the socket's stream (which keeps the timeout): not a byte past the hello is read
        DataInputStream in = new DataInputStream(s.getInputStream());
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
        SocketChannel c = s.getChannel();
        incoming[peer] = c;
        Thread.ofPlatform().daemon().name("bp-mesh-" + me + "<" + peer).start(() -> read(peer, c));
        return true;
    }

    private void read(int peer, SocketChannel in) {
        ByteBuffer header = ByteBuffer.allocateDirect(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer body = ByteBuffer.allocateDirect(0).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (true) {
                readFully(in, header.clear());
                header.flip();
                int tag = header.getInt();
                int rows = header.getInt();
                double loss = header.getDouble();
                long correct = header.getLong();
                int len = header.getInt();
                if (tag == DONE) {
                    peersDone.countDown();
                    return; // the peer's last message: what follows is its closing
                }
                if (body.capacity() < len * Float.BYTES) {
                    body = ByteBuffer.allocateDirect(len * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                }
                readFully(in, body.clear().limit(len * Float.BYTES));
                float[] values = spareArray(len);
                body.flip().asFloatBuffer().get(values);
                inbox.put(new Message(tag, rows, loss, correct, values));
            }
        } catch (IOException | InterruptedException e) {
            if (!closed) {
                inbox.offer(new IllegalStateException("task " + me + " lost task " + peer + ": " + e));
            }
        }
    }

    private static void readFully(SocketChannel in, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (in.read(b) < 0) {
                throw new EOFException();
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
        int bytes = HEADER_BYTES + len * Float.BYTES;
        ByteBuffer b = sending[peer];
        if (b == null || b.capacity() < bytes) {
            b = sending[peer] = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
        b.clear();
        b.putInt(tag).putInt(rows).putDouble(loss).putLong(correct).putInt(len);
        b.asFloatBuffer().put(values, off, len);
        b.position(bytes).flip();
        try {
            while (b.hasRemaining()) {
                outgoing[peer].write(b);
            }
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

    /**
     * Tells every peer that this task sends nothing more, and waits until each has said the same:
     * after that no task still reads what another sends, so closing cannot cut off a message.
     */
    void finish() {
        for (int peer = 0; peer < outgoing.length; peer++) {
            if (peer != me) {
                send(peer, DONE, 0, 0, 0, new float[0], 0, 0);
            }
        }
        try {
            if (!peersDone.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("task " + me + " waited " + TIMEOUT_SECONDS + " s for its peers to end");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("task " + me + " was interrupted", e);
        }
    }

    private volatile boolean closed;

    @Override
    public void close() {
        closed = true;
        for (SocketChannel[] channels : new SocketChannel[][] {outgoing, incoming}) {
            for (SocketChannel s : channels) {
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
