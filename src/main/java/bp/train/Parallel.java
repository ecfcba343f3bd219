package bp.train;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * Runs {@code body(i)} for {@code i in [0, n)} on a private ForkJoin pool, or on the calling thread
 * when there is one thread. The index → work mapping never depends on the thread count, so results
 * do not either.
 *
 * <p>A {@link Job} keeps its ForkJoin task trees (one per n it has run) and re-arms them with
 * {@code reinitialize()}, so that running a job in the training loop allocates nothing.
 */
final class Parallel implements AutoCloseable {

    private final ForkJoinPool pool;
    private final int threads;

    Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads);
    }

    int threads() {
        return threads;
    }

    /** A body to run many times; read its per-run inputs from fields, not from captured locals. */
    Job job(IntConsumer body) {
        return new Job(body);
    }

    /** Runs {@code body(0 … n-1)}, in parallel when the pool has several threads. */
    void run(Job job, int n) {
        if (pool == null || n <= 1) {
            for (int i = 0; i < n; i++) {
                job.body.accept(i);
            }
        } else {
            Range root = job.tree(n);
            root.reinitialize();
            if (ForkJoinTask.getPool() == pool) {
                root.invoke();
            } else {
                pool.invoke(root);
            }
        }
    }

    /**
     * Runs {@code work} on one of the pool's threads, so that the jobs it runs fork from inside the
     * pool: a thread outside it that waits for a job allocates a little bookkeeping each time.
     * Exceptions reach the caller as thrown.
     */
    <T> T call(Supplier<T> work) {
        if (pool == null || ForkJoinTask.getPool() == pool) {
            return work.get();
        }
        Object[] result = new Object[1];
        RuntimeException[] failure = new RuntimeException[1];
        Error[] error = new Error[1];
        pool.invoke(ForkJoinTask.adapt(() -> {
            try {
                result[0] = work.get();
            } catch (RuntimeException e) {
                failure[0] = e;
            } catch (Error e) {
                error[0] = e;
            }
        }));
        if (failure[0] != null) {
            throw failure[0];
        }
        if (error[0] != null) {
            throw error[0];
        }
        @SuppressWarnings("unchecked")
        T t = (T) result[0];
        return t;
    }

    /** One-off convenience for code outside the training loop. */
    void forEach(int n, IntConsumer body) {
        run(job(body), n);
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    static final class Job {
        private final IntConsumer body;
        private Range[] trees = new Range[0];

        private Job(IntConsumer body) {
            this.body = body;
        }

        IntConsumer body() {
            return body;
        }

        private Range tree(int n) {
            if (n >= trees.length) {
                trees = java.util.Arrays.copyOf(trees, Math.max(n + 1, 2 * trees.length));
            }
            if (trees[n] == null) {
                trees[n] = new Range(body, 0, n);
            }
            return trees[n];
        }
    }

    /** A node of a balanced binary task tree over {@code [from, to)}, built once and reused. */
    private static final class Range extends RecursiveAction {
        private static final long serialVersionUID = 1L;
        private final transient IntConsumer body;
        private final int from;
        private final int to;
        private final Range left;
        private final Range right;

        Range(IntConsumer body, int from, int to) {
            this.body = body;
            this.from = from;
            this.to = to;
            int mid = (from + to) >>> 1;
            this.left = to - from == 1 ? null : new Range(body, from, mid);
            this.right = to - from == 1 ? null : new Range(body, mid, to);
        }

        @Override
        protected void compute() {
            if (left == null) {
                body.accept(from);
                return;
            }
            left.reinitialize();
            right.reinitialize();
            invokeAll(left, right);
        }
    }
}
