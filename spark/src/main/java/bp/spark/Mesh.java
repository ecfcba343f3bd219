package bp.spark;

import java.io.DataInputStream;
import java.io.DataOutputStream;
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
import java.util.function.BooleanSupplier;

/**
 * Connections between every pair of a barrier stage's tasks, for their exchanges. Each task
 * listens on an ephemeral port only until its peers have connected; the addresses come from the
 * driver ({@link Rendezvous}). A connection must open with the stage's secret, compared in
 * constant time, or it is dropped. A thread per peer reads its messages into one inbox, so that
 * two tasks sending to each other at once never block each other. Between two tasks on one host
 * the bodies of messages go through shared memory ({@link SharedSlots}), their headers through
 * the socket.
 */
final class Mesh implements AutoCloseable {

    /** How long a peer may take to connect or to send a step's message before the task fails. */
    static final long TIMEOUT_SECONDS = 600;
    static final int TIMEOUT_MILLIS = (int) TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS);

    /** The tag of a task's last message to each peer. */
    private static final int DONE = Integer.MIN_VALUE;

    /** The tag of a receiver's message that hands a shared slot (its rows field) back to the sender. */
    private static final int SLOT_FREE = Integer.MIN_VALUE + 1;

    /** Shared slots per direction: a body can be written while the one before is being read. */
    private static final int SLOTS = 2;

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

    /** A message's header: tag, rows, loss, correct, length, and the shared slot of its body or −1. */
    private static final int HEADER_BYTES = 4 + 4 + 8 + 8 + 4 + 4;

    /** How often a waiting task looks whether it has been killed or has waited too long. */
    private static final long WAKE_MILLIS = 200;

    /** How long a connection may take to present the secret before it is dropped. */
    static final int HELLO_MILLIS = 30_000;

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
    /** The headers a reader thread sends back (slots handed back), one buffer per peer. */
    private final ByteBuffer[] freeing;
    /** Counts down as each peer says it sends nothing more. */
    private final CountDownLatch peersDone;
    /** Shared memory for the bodies to each peer, and from each, when it is on this host. */
    private final SharedSlots[] toPeer;
    private final SharedSlots[] fromPeer;

    private Mesh(int me, int size) {
        this.me = me;
        this.peersDone = new CountDownLatch(size - 1);
        this.outgoing = new SocketChannel[size];
        this.incoming = new SocketChannel[size];
        this.sending = new ByteBuffer[size];
        this.freeing = new ByteBuffer[size];
        this.toPeer = new SharedSlots[size];
        this.fromPeer = new SharedSlots[size];
    }

    /** The listening socket of a task, before the addresses are exchanged. */
    static ServerSocket listen(String host) {
        try {
            ServerSocket server = ServerSocketChannel.open().socket();
            server.bind(new InetSocketAddress(InetAddress.getByName(host), 0), 64);
            server.setSoTimeout(TIMEOUT_MILLIS);
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + host, e);
        }
    }

    /**
     * Connects task {@code me} to every other: an outgoing connection to each peer's address and an
     * incoming one from each, then closes the listening socket. To a peer on the same host, bodies
     * of up to {@code sharedFloats} floats go through shared memory (0: never).
     */
    static Mesh connect(int me, String[] addresses, ServerSocket server, byte[] secret, int sharedFloats) {
        Mesh mesh = new Mesh(me, addresses.length);
        String myHost = server.getInetAddress().getHostAddress();
        try (server) {
            for (int peer = 0; peer < addresses.length; peer++) {
                if (peer != me) {
                    mesh.dial(peer, addresses[peer], secret, myHost, sharedFloats);
                }
            }
            int accepted = 0;
            while (accepted < addresses.length - 1) {
                accepted += mesh.accept(server, secret) ? 1 : 0;
            }
            // every peer has dialled and accepted by now, so each has answered the offer of shared memory
            for (int peer = 0; peer < addresses.length; peer++) {
                if (mesh.toPeer[peer] != null && mesh.outgoing[peer].socket().getInputStream().read() != 1) {
                    mesh.toPeer[peer].close();
                    mesh.toPeer[peer] = null;
                }
            }
            return mesh;
        } catch (IOException e) {
            mesh.close();
            throw new UncheckedIOException("task " + me + " could not reach its peers", e);
        }
    }

    /** Connects to a peer and says who it is; offers shared memory when the peer is on this host. */
    private void dial(int peer, String address, byte[] secret, String myHost, int sharedFloats) throws IOException {
        InetSocketAddress to = socketAddress(address);
        SocketChannel c = SocketChannel.open();
        outgoing[peer] = c;
        c.socket().setTcpNoDelay(true);
        c.socket().connect(to, TIMEOUT_MILLIS);
        c.socket().setSoTimeout(TIMEOUT_MILLIS); // for the offer's answer
        if (sharedFloats > 0 && to.getHostString().equals(myHost)) {
            try {
                toPeer[peer] = SharedSlots.create(SLOTS, sharedFloats);
            } catch (IOException | UnsupportedOperationException e) {
                toPeer[peer] = null; // no /dev/shm, or full: the socket carries everything
            }
        }
        String offer = toPeer[peer] == null ? "" : toPeer[peer].path();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        DataOutputStream hello = new DataOutputStream(bytes);
        hello.write(secret);
        hello.writeInt(me);
        hello.writeInt(toPeer[peer] == null ? 0 : sharedFloats);
        hello.writeUTF(offer);
        ByteBuffer b = ByteBuffer.wrap(bytes.toByteArray());
        while (b.hasRemaining()) {
            c.write(b);
        }
    }

    /** {@return the address of a "host:port" string, as tasks and the driver exchange them} */
    static InetSocketAddress socketAddress(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
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
        int sharedFloats = in.readInt();
        String offer = in.readUTF();
        if (sharedFloats > 0) {
            try {
                fromPeer[peer] = SharedSlots.open(offer, SLOTS, sharedFloats);
            } catch (IOException | RuntimeException e) {
                fromPeer[peer] = null; // another host after all, or another user: the socket carries everything
            }
            c.write(ByteBuffer.wrap(new byte[] {(byte) (fromPeer[peer] != null ? 1 : 0)}));
        }
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
                int slot = header.getInt();
                if (tag == DONE) {
                    peersDone.countDown();
                    return; // the peer's last message: what follows is its closing
                }
                if (tag == SLOT_FREE) {
                    toPeer[peer].release(rows);
                    continue;
                }
                float[] values = spareArray(len);
                if (slot >= 0) {
                    fromPeer[peer].get(slot, values, len);
                    write(peer, freeing, SLOT_FREE, slot, 0, 0, 0, -1, null, 0);
                } else {
                    if (body.capacity() < len * Float.BYTES) {
                        body = ByteBuffer.allocateDirect(len * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                    }
                    readFully(in, body.clear().limit(len * Float.BYTES));
                    body.flip().asFloatBuffer().get(values);
                }
                inbox.put(new Message(tag, rows, loss, correct, values));
            }
        } catch (IOException | InterruptedException | RuntimeException | InternalError e) {
            if (!closed) { // InternalError: a fault in shared memory the peer truncated as it went
                failure = new IllegalStateException("task " + me + " lost task " + peer + ": " + e);
                inbox.offer(failure);
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
        int slot = -1;
        SharedSlots shared = toPeer[peer];
        if (shared != null && len > 0 && shared.fits(len)) {
            slot = awaitSlot(shared, peer);
            shared.put(slot, values, off, len);
        }
        write(peer, sending, tag, rows, loss, correct, len, slot, values, off);
    }

    /**
     * Writes a message to {@code peer} through {@code buffers[peer]}: its header, and its body
     * unless it is in shared {@code slot}. The task and the reader threads (handing slots back)
     * write to the same connection, one message at a time.
     */
    private void write(int peer, ByteBuffer[] buffers, int tag, int rows, double loss, long correct, int len,
                       int slot, float[] values, int off) {
        int bytes = HEADER_BYTES + (slot < 0 ? len * Float.BYTES : 0);
        SocketChannel c = outgoing[peer];
        synchronized (c) {
            ByteBuffer b = buffers[peer];
            if (b == null || b.capacity() < bytes) {
                b = buffers[peer] = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
            }
            b.clear();
            b.putInt(tag).putInt(rows).putDouble(loss).putLong(correct).putInt(len).putInt(slot);
            if (slot < 0 && len > 0) {
                b.asFloatBuffer().put(values, off, len);
            }
            b.position(bytes).flip();
            try {
                while (b.hasRemaining()) {
                    c.write(b);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("task " + me + " lost task " + peer, e);
            }
        }
    }

    /** {@return whether message bodies to {@code peer} go through shared memory} */
    boolean sharesMemoryWith(int peer) {
        return toPeer[peer] != null;
    }

    /** The next message from any peer. */
    Message receive() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        try {
            while (true) {
                Object m = inbox.poll(WAKE_MILLIS, TimeUnit.MILLISECONDS);
                if (m instanceof Message message) {
                    return message;
                }
                if (m != null) {
                    throw (IllegalStateException) m;
                }
                stillWaiting(deadline, "a message");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("task " + me + " was interrupted", e);
        }
    }

    /** A free slot of shared memory to {@code peer}, once the peer has handed one back. */
    private int awaitSlot(SharedSlots shared, int peer) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        try {
            while (true) {
                int slot = shared.take(WAKE_MILLIS);
                if (slot >= 0) {
                    return slot;
                }
                if (failure != null) { // the reader that would hand slots back has stopped
                    throw failure;
                }
                stillWaiting(deadline, "a shared slot back from task " + peer);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("task " + me + " was interrupted", e);
        }
    }

    /**
     * Between two looks at what a wait waits for: fails when the task has been killed (Spark kills
     * the other tasks of a failed barrier stage without interrupting them) or the wait is over.
     */
    private void stillWaiting(long deadline, String what) {
        if (killed.getAsBoolean()) {
            throw new IllegalStateException("task " + me + " was killed while waiting for " + what);
        }
        if (System.nanoTime() > deadline) {
            throw new IllegalStateException("task " + me + " waited " + TIMEOUT_SECONDS + " s for " + what);
        }
    }

    /**
     * Makes every wait fail once {@code killed} says so: the Spark task's kill flag, which a wait
     * would not otherwise see.
     */
    Mesh stopWhen(BooleanSupplier killed) {
        this.killed = killed;
        return this;
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
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        try {
            while (!peersDone.await(WAKE_MILLIS, TimeUnit.MILLISECONDS)) {
                if (failure != null) {
                    throw failure;
                }
                stillWaiting(deadline, "its peers to end");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("task " + me + " was interrupted", e);
        }
    }

    private volatile boolean closed;
    /** Why a reader stopped, if one did before the mesh was closed. */
    private volatile IllegalStateException failure;
    private volatile BooleanSupplier killed = () -> false;

    @Override
    public void close() {
        closed = true;
        for (SharedSlots[] slots : new SharedSlots[][] {toPeer, fromPeer}) {
            for (SharedSlots shared : slots) {
                if (shared != null) {
                    shared.close();
                }
            }
        }
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
