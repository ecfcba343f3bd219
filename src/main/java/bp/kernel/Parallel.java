package bp.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import java.util.function.IntUnaryOperator;

/**
 * Runs {@code body(i)} for {@code i in [0, n)} on the calling thread and {@code threads − 1}
 * long-lived workers: how the trainer's phases and large predictions use every core (in this
 * package, which the module does not export, because it is engine, not API). The index → work
 * mapping never depends on the thread count, so results do not either; which thread runs an index
 * does (each takes the next free index, or first its own: see {@link #job(IntConsumer, IntUnaryOperator)}),
 * which balances tasks of unequal cost.
 *
 * <p>A training step is a handful of such runs, each a millisecond or less, so waking the workers
 * must be cheap: between runs they spin for {@link #SPIN_NANOS} before they park (a park and
 * unpark costs tens of microseconds on these machines, a spin about one), and nothing here
 * allocates, so neither does a step (no waiter nodes, no task objects).
 *
 * <p>A run waits only for the workers that joined it. A worker that has not started when the
 * caller has run every task (off its core: another process, or the JIT, wants the core) finds the
 * run closed and waits for the next, instead of holding every phase up for a scheduler time slice.
 * {@code bp bench train --threads 2} beside one busy process: batch 32 went from 16-20 k to
 * 28-36 k samples/s, batch 128 1.25× (one thread there: 50 k); alone, no change.
 */
public final class Parallel implements AutoCloseable {

    /** How long an idle worker spins before it parks: longer than the serial gaps of a training step. */
    private static final long SPIN_NANOS = 200_000;

    private final int threads;
    private final Worker[] workers;
    /**
     * The current run: its generation in the upper 32 bits, {@link #CLOSED} once the caller has run
     * out of tasks, and the number of workers inside it in the bits below. Workers wait for the
     * generation to change and join only while the run is open; the caller waits for those inside.
     */
    private final AtomicLong door = new AtomicLong();
    private static final long CLOSED = 1L << 31;
    private static final long INSIDE = CLOSED - 1;
    private volatile boolean closed;
    private final AtomicInteger next = new AtomicInteger();
    /** Test hook: what a worker does after it sees a new run and before it joins it. */
    private final Runnable beforeJoin;
    private IntConsumer body;
    private IntUnaryOperator owner;
    private int count;
    /**
     * Task i of an owned run is started by whoever moves claims[i·CLAIM_STRIDE] to the current
     * generation (no reset between runs; a claim could only look current again after 2³² runs in
     * which task i was never run).
     */
    private AtomicIntegerArray claims = new AtomicIntegerArray(0);
    /** One claim per cache line: a thread claiming its own tasks never touches the other core's lines. */
    private static final int CLAIM_STRIDE = 16;
    private volatile Throwable failure;

    public Parallel(int threads) {
        this(threads, null);
    }

    Parallel(int threads, Runnable beforeJoin) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.beforeJoin = beforeJoin;
        this.workers = new Worker[threads - 1];
        for (int w = 0; w < workers.length; w++) {
            workers[w] = new Worker(w + 1);
            workers[w].thread.start();
        }
    }

    public int threads() {
        return threads;
    }

    /** A body to run many times; read its per-run inputs from fields, not from captured locals. */
    public Job job(IntConsumer body) {
        return new Job(body, null);
    }

    /**
     * A body whose task i is first offered to thread {@code owner(i)} (0 is the calling thread,
     * {@code threads() − 1} the last worker): a thread runs its own tasks in order, then takes
     * over, from the last, those of the others that nobody has started yet. Giving the same data
     * to the same thread in every run keeps it in that core's cache: on this project's 2-core VMs
     * a cache line written by one core costs the other 200-240 ns (bench/run peak measures it),
     * and at batch 32 the trainer's weight blocks moving between cores made it 15-20 % slower.
     */
    public Job job(IntConsumer body, IntUnaryOperator owner) {
        return new Job(body, owner);
    }

    /** Runs {@code body(0 … n-1)}, in parallel when there are several threads; returns when all are done. */
    public void run(Job job, int n) {
        if (workers.length == 0 || n <= 1) {
            for (int i = 0; i < n; i++) {
                job.body.accept(i);
            }
            return;
        }
        body = job.body;
        owner = job.owner;
        count = n;
        if (owner != null && claims.length() < n * CLAIM_STRIDE) {
            claims = new AtomicIntegerArray(n * CLAIM_STRIDE);
        }
        next.set(0);
        int g = generation(door.get()) + 1; // only this thread changes the generation
        door.set((long) g << 32); // opens the run; publishes body, count and the counters to the workers
        for (Worker w : workers) {
            if (w.parked) {
                LockSupport.unpark(w.thread);
            }
        }
        work(0, g);
        long spins = 0;
        for (long d = door.getAndAdd(CLOSED); (d & INSIDE) != 0; d = door.get()) {
            if (++spins % 1024 == 0) {
                Thread.yield(); // a worker may be waiting for this core (fewer cores than threads)
            } else {
                Thread.onSpinWait();
            }
        }
        body = null;
        Throwable t = failure;
        if (t != null) {
            failure = null;
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(t);
        }
    }

    /**
     * {@return the calling thread's number in this pool: 1 … threads − 1 on one of its workers, 0
     * on any other thread (the thread that calls {@link #run} is 0)}
     */
    public int threadIndex() {
        return Thread.currentThread() instanceof WorkerThread w && w.pool == this ? w.index : 0;
    }

    /** A worker's thread, which knows its pool and number for {@link #threadIndex()}. */
    private static final class WorkerThread extends Thread {
        final Parallel pool;
        final int index;

        WorkerThread(Runnable body, Parallel pool, int index) {
            super(body, "bp-worker");
            this.pool = pool;
            this.index = index;
        }
    }

    /** One-off convenience for code outside the training loop. */
    public void forEach(int n, IntConsumer body) {
        run(job(body), n);
    }

    /** Takes indices until none is left: with owners, this thread's own first, then the others' from the last. */
    private void work(int self, int g) {
        IntConsumer b = body;
        int n = count;
        IntUnaryOperator own = owner;
        if (own == null) {
            for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                attempt(b, i);
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            if (own.applyAsInt(i) == self && claim(i, g)) {
                attempt(b, i);
            }
        }
        for (int i = n - 1; i >= 0; i--) {
            if (own.applyAsInt(i) != self && claim(i, g)) {
                attempt(b, i);
            }
        }
    }

    private boolean claim(int i, int g) {
        int at = i * CLAIM_STRIDE;
        int c = claims.get(at);
        return c != g && claims.compareAndSet(at, c, g);
    }

    private void attempt(IntConsumer b, int i) {
        try {
            b.accept(i);
        } catch (Throwable t) {
            if (failure == null) {
                failure = t;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w.thread);
        }
    }

    private static int generation(long door) {
        return (int) (door >>> 32);
    }

    public static final class Job {
        private final IntConsumer body;
        private final IntUnaryOperator owner;

        private Job(IntConsumer body, IntUnaryOperator owner) {
            this.body = body;
            this.owner = owner;
        }

        public IntConsumer body() {
            return body;
        }
    }

    private final class Worker implements Runnable {
        final Thread thread;
        /** This worker's number for task owners: 1 … threads − 1 (the calling thread is 0). */
        final int index;
        volatile boolean parked;

        Worker(int index) {
            this.index = index;
            thread = new WorkerThread(this, Parallel.this, index);
            thread.setDaemon(true);
        }

        @Override
        public void run() {
            int seen = 0; // the generation at construction: a run may start before this thread does
            while (true) {
                long start = System.nanoTime();
                long d;
                while (generation(d = door.get()) == seen && !closed) {
                    if (System.nanoTime() - start < SPIN_NANOS) {
                        Thread.onSpinWait();
                    } else {
                        parked = true;
                        if (generation(door.get()) == seen && !closed) { // re-check after announcing: run() reads parked after opening
                            LockSupport.park(this);
                        }
                        parked = false;
                        start = System.nanoTime();
                    }
                }
                if (closed) {
                    return;
                }
                seen = generation(d);
                if (beforeJoin != null) {
                    beforeJoin.run();
                }
                if (join(seen)) {
                    work(index, seen);
                    door.decrementAndGet();
                }
            }
        }

        /** Enters run g unless the caller has closed it (or already opened the next). */
        private boolean join(int g) {
            for (long d = door.get(); generation(d) == g && (d & CLOSED) == 0; d = door.get()) {
                if (door.compareAndSet(d, d + 1)) {
                    return true;
                }
            }
            return false;
        }
    }
}
