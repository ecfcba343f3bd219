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
import java.util.ArrayDeque;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Connections between every pair of a barrier stage's tasks, for their exchanges. Each task
 * listens on an ephemeral port only until its peers have connected; the addresses come from the
 * driver ({@link Rendezvous}). A connection must open with the stage's secret, compared in
 * constant time, or it is dropped. A thread per peer reads its messages into one inbox, so that
 * two tasks sending to each other at once never block each other. Two tasks on one host send
 * their messages through shared memory ({@link SharedSlots}), which the task's own thread polls;
 * the socket between them then only carries the end of the exchanges, and its reader notices a
 * peer that is gone.
 */
final class Mesh implements AutoCloseable {

    /** How long a peer may take to connect or to send a step's message before the task fails. */
    static final long TIMEOUT_SECONDS = 600;
    static final int TIMEOUT_MILLIS = (int) TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS);

    /** The tag of a task's last message to each peer. */
    private static final int DONE = Integer.MIN_VALUE;

    /** Shared slots per direction: a message can be written while the one before is being read. */
    private static final int SLOTS = 2;

    /**
     * A message: a piece of a vector with a small header. Its body is an array, or until the mesh
     * copies it out, the shared slot it came in; read it with {@link Mesh#copy}, and hand it back
     * with {@link Mesh#release}.
     */
    static final class Message {
        private final int tag;
        private final int rows;
        private final double loss;
        private final long correct;
        private final int length;
        private final int peer;
        private float[] values;
        /** The slot's message number while the body is still in shared memory, else 0. */
        private long number;

        private Message(int peer, int tag, int rows, double loss, long correct, int length, float[] values,
                        long number) {
            this.peer = peer;
            this.tag = tag;
            this.rows = rows;
            this.loss = loss;
            this.correct = correct;
            this.length = length;
            this.values = values;
            this.number = number;
        }

        /** What the piece is (the all-reduce's: a shard's number, or a chunk's). */
        int tag() {
            return tag;
        }

        /** Rows behind it. */
        int rows() {
            return rows;
        }

        /** Their summed loss. */
        double loss() {
            return loss;
        }

        /** Their correctly classified rows. */
        long correct() {
            return correct;
        }

        /** The piece's floats. */
        int length() {
            return length;
        }
    }

    /** A message's header on a socket: tag, rows, loss, correct and length. */
    private static final int HEADER_BYTES = 4 + 4 + 8 + 8 + 4;

    /** How often a waiting task looks whether it has been killed or has waited too long. */
    private static final long WAKE_MILLIS = 200;

    /** How long a connection may take to present the secret before it is dropped. */
    static final int HELLO_MILLIS = 30_000;

    private final int me;
    private final SocketChannel[] outgoing;
    private final SocketChannel[] incoming;
    private final BlockingQueue<Message> inbox = new ArrayBlockingQueue<>(4096);
    /** Arrays of messages the receiver is done with, for the readers to fill again: a step allocates nothing. */
    private final BlockingQueue<float[]> spare = new ArrayBlockingQueue<>(4096);
    /**
     * Each peer's send buffer, reused. Direct: a socket copies a heap array through a native
     * buffer first (measured on loopback: 2.0 GB/s through streams, 4.2 GB/s from direct buffers).
     */
    private final ByteBuffer[] sending;
    /** Counts down as each peer says it sends nothing more. */
    private final CountDownLatch peersDone;
    /** Shared memory for the bodies to each peer, and from each, when it is on this host. */
    private final SharedSlots[] toPeer;
    private final SharedSlots[] fromPeer;
    /** Each peer's message still in a shared slot that the task holds, at most one (see {@link #receive}). */
    private final Message[] held;
    /** Messages taken out of shared slots while the task waited to send (see {@link #send}). */
    private final ArrayDeque<Message> taken = new ArrayDeque<>();

    private Mesh(int me, int size) {
        this.me = me;
        this.peersDone = new CountDownLatch(size - 1);
        this.outgoing = new SocketChannel[size];
        this.incoming = new SocketChannel[size];
        this.sending = new ByteBuffer[size];
        this.toPeer = new SharedSlots[size];
        this.fromPeer = new SharedSlots[size];
        this.held = new Message[size];
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

    /** The thread that reads a peer's socket: its messages, or from a peer that shares memory, only its end. */
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
                float[] values = spareArray(len);
                if (body.capacity() < len * Float.BYTES) {
                    body = ByteBuffer.allocateDirect(len * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                }
                readFully(in, body.clear().limit(len * Float.BYTES));
                body.flip().asFloatBuffer().get(values);
                inbox.put(new Message(peer, tag, rows, loss, correct, len, values, 0));
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (!closed) {
                failure = new IllegalStateException("task " + me + " lost task " + peer + ": " + e);
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

    /**
     * Sends {@code values[off, off + len)} with its header to {@code peer}. Through shared memory,
     * the task waits for a free slot; meanwhile it takes in what its peers send (copying it out of
     * their slots), so that two tasks sending each other more messages than there are slots never
     * wait for each other.
     */
    void send(int peer, int tag, int rows, double loss, long correct, float[] values, int off, int len) {
        SharedSlots shared = toPeer[peer];
        if (shared == null || !shared.fits(len)) {
            write(peer, tag, rows, loss, correct, len, values, off);
            return;
        }
        try {
            if (!shared.writable()) {
                beginWait("a shared slot back from task " + peer);
                while (!shared.writable()) {
                    for (int p = 0; p < fromPeer.length; p++) {
                        if (fromPeer[p] != null && fromPeer[p].readable()) {
                            Message m = takeShared(p);
                            detach(m);
                            taken.add(m);
                        }
                    }
                    pause();
                }
            }
            shared.write(tag, rows, loss, correct, values, off, len);
        } catch (InternalError e) {
            throw lostSharedMemory(e);
        }
    }

    /** Writes a message, header and body, to {@code peer}'s socket. */
    private void write(int peer, int tag, int rows, double loss, long correct, int len, float[] values, int off) {
        int bytes = HEADER_BYTES + len * Float.BYTES;
        SocketChannel c = outgoing[peer];
        ByteBuffer b = sending[peer];
        if (b == null || b.capacity() < bytes) {
            b = sending[peer] = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
        b.clear();
        b.putInt(tag).putInt(rows).putDouble(loss).putLong(correct).putInt(len);
        if (len > 0) {
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

    /** {@return whether messages to {@code peer} go through shared memory} */
    boolean sharesMemoryWith(int peer) {
        return toPeer[peer] != null;
    }

    /**
     * The next message from any peer. The task polls the shared slots (the main thread, not a
     * reader: no wake-up on the way) and its inbox. A message that came through shared memory
     * stays in its slot until {@link #release}d, so that the sum can read it where it lies; but a
     * task holds at most one slot of each peer, the older message being copied out when it takes
     * another: the peer always has a slot to write its next message into.
     */
    Message receive() {
        if (!taken.isEmpty()) {
            return taken.poll();
        }
        beginWait("a message");
        try {
            while (true) {
                for (int p = 0; p < fromPeer.length; p++) {
                    if (fromPeer[p] != null && fromPeer[p].readable()) {
                        if (held[p] != null) {
                            detach(held[p]);
                        }
                        held[p] = takeShared(p);
                        return held[p];
                    }
                }
                Message m = inbox.poll();
                if (m != null) {
                    return m;
                }
                pause();
            }
        } catch (InternalError e) {
            throw lostSharedMemory(e);
        }
    }

    /** Takes peer {@code p}'s next message, which is readable, leaving its body in the slot. */
    private Message takeShared(int p) {
        SharedSlots from = fromPeer[p];
        Message m = new Message(p, from.nextTag(), from.nextRows(), from.nextLoss(), from.nextCorrect(),
                from.nextLength(), null, 0);
        m.number = from.take();
        return m;
    }

    /** Copies floats {@code [from, from + n)} of {@code m}'s body into {@code out[outOff, …)}. */
    void copy(Message m, int from, float[] out, int outOff, int n) {
        if (m.number == 0) {
            System.arraycopy(m.values, from, out, outOff, n);
            return;
        }
        try {
            fromPeer[m.peer].copy(m.number, from, out, outOff, n);
        } catch (InternalError e) {
            throw lostSharedMemory(e);
        }
    }

    /** {@return {@code m}'s body, which the caller then owns (tests)} */
    float[] values(Message m) {
        detach(m);
        float[] values = m.values;
        m.values = null;
        return values;
    }

    /** Moves {@code m}'s body out of its shared slot into an array, and hands the slot back. */
    private void detach(Message m) {
        if (m.number != 0) {
            float[] values = spareArray(m.length);
            copy(m, 0, values, 0, m.length);
            handBack(m);
            m.values = values;
        }
    }

    /** The task is done with {@code m}'s body: its slot goes back to the sender, or its array to the readers. */
    void release(Message m) {
        handBack(m);
        if (m.values != null) {
            spare.offer(m.values);
            m.values = null;
        }
    }

    private void handBack(Message m) {
        if (m.number != 0) {
            try {
                fromPeer[m.peer].release(m.number);
            } catch (InternalError e) {
                throw lostSharedMemory(e);
            }
            m.number = 0;
            if (held[m.peer] == m) {
                held[m.peer] = null;
            }
        }
    }

    /**
     * A peer that failed may have truncated its file under the mapping, which the JVM reports as
     * an InternalError when the task touches it: the task has lost that peer.
     */
    private IllegalStateException lostSharedMemory(InternalError e) {
        return new IllegalStateException("task " + me + " lost a peer's shared memory: " + e, e);
    }

    /** How long a wait spins, then yields its core, before it sleeps between looks. */
    private static final long SPIN_NANOS = 50_000;
    private static final long YIELD_NANOS = 2_000_000;
    private static final long SLEEP_NANOS = 100_000;

    private long waitStart;
    private long waitChecked;
    private String waitingFor;

    private void beginWait(String what) {
        waitStart = waitChecked = System.nanoTime();
        waitingFor = what;
    }

    /**
     * One pause of the task's wait: the exchanges of a step take a millisecond or less, which a
     * thread's wake-up would lengthen by 0.1-0.2 ms; a long wait (the other task evaluates, or
     * has failed) sleeps. Fails when a reader has lost its peer, or as {@link #stillWaiting} says.
     */
    private void pause() {
        long now = System.nanoTime();
        long waited = now - waitStart;
        if (waited < SPIN_NANOS) {
            Thread.onSpinWait();
        } else if (waited < YIELD_NANOS) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(SLEEP_NANOS);
        }
        if (failure != null) {
            throw failure;
        }
        if (now - waitChecked > TimeUnit.MILLISECONDS.toNanos(WAKE_MILLIS)) {
            waitChecked = now;
            stillWaiting(waitStart + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS), waitingFor);
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
                write(peer, DONE, 0, 0, 0, 0, null, 0); // by the socket, whose reader waits for it
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
