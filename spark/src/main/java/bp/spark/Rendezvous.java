package bp.spark;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;

/**
 * Where a barrier stage's tasks learn each other's addresses, and the driver's end of their
 * connections for the rest of the stage: a socket on the driver, open for one stage attempt, as
 * XGBoost's tracker is. Each task presents the attempt's secret, its number and the address its
 * {@link Mesh} listens on; once every task has come, each gets all the addresses and the driver
 * stops listening. Spark's {@code BarrierTaskContext.allGather} does the same through the driver
 * but sleeps in whole seconds while it waits (measured: 1.0 s a call on an idle cluster).
 *
 * <p>Every connection then stays open until the stage ends ({@link DriverLink} is the task's
 * end): the driver sends the epochs to train through it, task 0 sends its checkpoints (kept here,
 * for a retried attempt to start from) and each epoch's end, and every task its test figures; what
 * the driver waits for goes to the attempt's {@code events}.
 */
final class Rendezvous implements AutoCloseable {

    /**
     * A task's test figures after an epoch.
     *
     * @param task the task
     * @param blocks its test blocks' sums
     */
    record Evaluated(int task, java.util.List<DriverLink.BlockSums> blocks) {
    }

    private final ServerSocket server;
    private final String address;
    private final byte[] secret;
    private final Socket[] joined;
    private final DataOutputStream[] commands;
    private final String[] addresses;
    private final java.util.function.Consumer<Object> events;
    private int count;
    private volatile boolean closed;
    /** The last checkpoint task 0 sent, or null. */
    private volatile MeshTraining.EpochState checkpoint;
    /** The thread that accepts connections; it closes the listening socket as it ends. */
    private Thread acceptor;
    /** Reads task 0's messages until it closes its connection; set before any task has the addresses. */
    private Thread taskZeroReader;
    /** The command sent to every task as soon as all have come, when one was given before. */
    private DriverLink.Command queued;

    private Rendezvous(ServerSocket server, String advertised, int tasks, byte[] secret,
                       java.util.function.Consumer<Object> events) {
        this.server = server;
        this.events = events;
        this.commands = new DataOutputStream[tasks];
        this.address = advertised + ":" + server.getLocalPort();
        this.secret = secret.clone();
        this.joined = new Socket[tasks];
        this.addresses = new String[tasks];
    }

    /**
     * Opens the meeting point of {@code tasks} tasks.
     *
     * @param bindHost the address to listen on (the driver's bind address)
     * @param advertisedHost the address tasks reach it at (the driver's host)
     * @param events takes each epoch's end ({@link MeshTraining.EpochState}) and each task's test
     *               figures ({@link Evaluated}), from the threads that read the connections
     */
    static Rendezvous open(String bindHost, String advertisedHost, int tasks, byte[] secret,
                           java.util.function.Consumer<Object> events) {
        try {
            ServerSocket server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getByName(bindHost), 0), 64);
            Rendezvous r = new Rendezvous(server, advertisedHost, tasks, secret, events);
            r.acceptor = Thread.ofPlatform().daemon().name("bp-rendezvous").unstarted(r::acceptAll);
            r.acceptor.start();
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException("the driver cannot listen on " + bindHost + " for the tasks to meet", e);
        }
    }

    /** {@return host:port for the tasks} */
    String address() {
        return address;
    }

    private void acceptAll() {
        try {
            while (!closed) {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> hello(s));
            }
        } catch (IOException e) {
            // closed: every task has come, or the stage has ended
        }
    }

    /** Reads a connection's secret, task number and address; the last task to come sends all the addresses. */
    private void hello(Socket s) {
        try {
            s.setSoTimeout(Mesh.HELLO_MILLIS);
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] presented = new byte[secret.length];
            in.readFully(presented);
            int task = in.readInt();
            String taskAddress = in.readUTF();
            if (!MessageDigest.isEqual(presented, secret) || !register(s, task, taskAddress)) {
                s.close(); // not one of this attempt's tasks, or a task that came twice
            }
        } catch (IOException e) {
            closeQuietly(s);
        }
    }

    private synchronized boolean register(Socket s, int task, String taskAddress) throws IOException {
        if (closed || task < 0 || task >= joined.length || joined[task] != null) {
            return false;
        }
        joined[task] = s;
        addresses[task] = taskAddress;
        if (++count == joined.length) {
            stopListening(); // nothing listens once all have come
            for (int t = 0; t < joined.length; t++) {
                // under the lock, before any reply: once task 0 has the addresses, checkpoint() finds its reader
                int from = t;
                Thread reader = Thread.ofVirtual().start(() -> read(from, joined[from]));
                if (t == 0) {
                    taskZeroReader = reader;
                }
                commands[t] = new DataOutputStream(new java.io.BufferedOutputStream(joined[t].getOutputStream()));
                commands[t].writeInt(addresses.length);
                for (String a : addresses) {
                    commands[t].writeUTF(a);
                }
                commands[t].flush();
            }
            if (queued != null) {
                sendToAll(queued);
            }
        }
        return true;
    }

    /**
     * Tells every task to train {@code epoch} at learning rate {@code lr}, or with epoch 0 that the
     * run is over: now, or as soon as every task has come. A task that cannot be told is lost, which
     * the stage's failure reports.
     */
    synchronized void command(int epoch, double lr) {
        DriverLink.Command c = new DriverLink.Command(epoch, lr);
        if (count < joined.length) {
            queued = c;
        } else {
            sendToAll(c);
        }
    }

    private void sendToAll(DriverLink.Command c) {
        for (DataOutputStream out : commands) {
            try {
                DriverLink.command(out, c.epoch(), c.learningRate());
            } catch (IOException e) {
                // the task is gone: its stage fails
            }
        }
    }

    /**
     * Closes the listening socket and waits for the accepting thread to end: a socket closed while
     * another thread is blocked in accept is closed by that thread as it wakes, so until then the
     * port still takes connections.
     */
    private void stopListening() throws IOException {
        server.close();
        try {
            acceptor.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while closing the rendezvous");
        }
    }

    /** Reads a task's messages until it closes its connection; task 0's last whole checkpoint stands. */
    private void read(int task, Socket s) {
        try (s) {
            s.setSoTimeout(0); // as long as the stage lasts
            DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(s.getInputStream(), 1 << 16));
            while (true) {
                byte kind = in.readByte();
                switch (kind) {
                    case DriverLink.CHECKPOINT -> checkpoint = DriverLink.read(in);
                    case DriverLink.EPOCH_END -> events.accept(DriverLink.read(in));
                    case DriverLink.EVALUATION -> events.accept(new Evaluated(task, DriverLink.readEvaluation(in)));
                    default -> throw new IOException("task " + task + " sent a message of unknown kind " + kind);
                }
            }
        } catch (IOException e) {
            // the task is done, or lost
        }
    }

    /**
     * The last checkpoint task 0 sent in this failed attempt, or null: waits until task 0 has
     * closed its connection (it stops within moments of losing a peer or being killed in an
     * epoch), so that every checkpoint it wrote has been read.
     */
    MeshTraining.EpochState checkpoint() throws InterruptedException {
        Thread reader;
        synchronized (this) {
            reader = taskZeroReader;
        }
        if (reader != null) {
            reader.join(java.time.Duration.ofMillis(Mesh.HELLO_MILLIS));
        }
        return checkpoint;
    }

    /**
     * A task's side: presents itself at the driver's {@code rendezvous} and waits for every task's
     * address, in task order. The connection stays open, for the rest of the stage.
     *
     * @return every task's address, and the connection to the driver
     */
    static Joined join(String rendezvous, byte[] secret, int me, String myAddress) {
        Socket s = new Socket();
        try {
            s.connect(Mesh.socketAddress(rendezvous), Mesh.TIMEOUT_MILLIS);
            s.setSoTimeout(Mesh.TIMEOUT_MILLIS);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.write(secret);
            out.writeInt(me);
            out.writeUTF(myAddress);
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            String[] all = new String[in.readInt()];
            for (int i = 0; i < all.length; i++) {
                all[i] = in.readUTF();
            }
            return new Joined(all, s);
        } catch (IOException e) {
            closeQuietly(s);
            throw new UncheckedIOException("task " + me + " could not meet the others at the driver (" + rendezvous
                    + ")", e);
        }
    }

    /**
     * What a task learns at the rendezvous.
     *
     * @param addresses every task's mesh address, in task order
     * @param driver the open connection to the driver
     */
    record Joined(String[] addresses, Socket driver) {
    }

    /** Stops listening and drops every connection; the stage's attempt is over. */
    @Override
    public synchronized void close() {
        closed = true;
        closeQuietly(server);
        for (Socket s : joined) {
            if (s != null) {
                closeQuietly(s);
            }
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // closing anyway
        }
    }
}
