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
 * Where a barrier stage's tasks learn each other's addresses: a socket on the driver, open for one
 * stage attempt, as XGBoost's tracker is. Each task presents the attempt's secret, its number and
 * the address its {@link Mesh} listens on; once every task has come, each gets all the addresses
 * and the driver stops listening. Spark's {@code BarrierTaskContext.allGather} does the same
 * through the driver but sleeps in whole seconds while it waits (measured: 1.0 s a call on an idle
 * cluster), which a stage per epoch would pay every epoch.
 *
 * <p>Task 0's connection then stays open for the stage's checkpoints: the state it sends every few
 * exchanges ({@link Checkpoints}), from which a retried attempt of the stage starts.
 */
final class Rendezvous implements AutoCloseable {

    private final ServerSocket server;
    private final String address;
    private final byte[] secret;
    private final Socket[] joined;
    private final String[] addresses;
    private int count;
    private volatile boolean closed;
    /** The last checkpoint task 0 sent, or null. */
    private volatile MeshTraining.Start checkpoint;
    /** The thread that accepts connections; it closes the listening socket as it ends. */
    private Thread acceptor;
    /** Reads task 0's checkpoints until it closes its connection; set before any task has the addresses. */
    private Thread checkpointReader;

    private Rendezvous(ServerSocket server, String advertised, int tasks, byte[] secret) {
        this.server = server;
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
     */
    static Rendezvous open(String bindHost, String advertisedHost, int tasks, byte[] secret) {
        try {
            ServerSocket server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getByName(bindHost), 0), 64);
            Rendezvous r = new Rendezvous(server, advertisedHost, tasks, secret);
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
            // under the lock, before any reply: once task 0 has the addresses, checkpoint() finds the reader
            Socket zero = joined[0];
            checkpointReader = Thread.ofVirtual().start(() -> readCheckpoints(zero));
            for (Socket t : joined) {
                DataOutputStream out = new DataOutputStream(t.getOutputStream());
                out.writeInt(addresses.length);
                for (String a : addresses) {
                    out.writeUTF(a);
                }
                out.flush();
                if (t != zero) {
                    t.close();
                }
            }
        }
        return true;
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

    /** Keeps the last whole checkpoint task 0 sends, until it closes the connection. */
    private void readCheckpoints(Socket s) {
        try (s) {
            s.setSoTimeout(0); // as long as the stage lasts
            DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(s.getInputStream(), 1 << 16));
            while (true) {
                checkpoint = Checkpoints.read(in);
            }
        } catch (IOException e) {
            // task 0 is done, or lost: the last whole checkpoint stands
        }
    }

    /**
     * The last checkpoint task 0 sent in this failed attempt, or null: waits until task 0 has
     * closed its connection (it stops within moments of losing a peer or being killed), so that
     * every checkpoint it wrote has been read.
     */
    MeshTraining.Start checkpoint() throws InterruptedException {
        Thread reader;
        synchronized (this) {
            reader = checkpointReader;
        }
        if (reader != null) {
            reader.join(java.time.Duration.ofSeconds(Mesh.TIMEOUT_SECONDS));
        }
        return checkpoint;
    }

    /**
     * A task's side: presents itself at the driver's {@code rendezvous} and waits for every task's
     * address, in task order. Task 0 keeps the connection, for its checkpoints; the others' closes.
     *
     * @return every task's address, and for task 0 the connection to the driver
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
            if (me != 0) {
                s.close();
            }
            return new Joined(all, me == 0 ? s : null);
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
     * @param driver task 0's open connection to the driver, for its checkpoints; null for the others
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
