package bp.train;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * Runs {@code body(i)} for {@code i in [0, n)} on a private ForkJoin pool, or on the calling thread
 * when there is one thread. The index → work mapping never depends on the thread count, so results
 * do not either.
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

    void forEach(int n, IntConsumer body) {
        if (pool == null || n <= 1) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
        } else {
            pool.invoke(new Range(body, 0, n));
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    private static final class Range extends RecursiveAction {
        private static final long serialVersionUID = 1L;
        private final transient IntConsumer body;
        private final int from;
        private final int to;

        Range(IntConsumer body, int from, int to) {
            this.body = body;
            this.from = from;
            this.to = to;
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                body.accept(from);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Range(body, from, mid), new Range(body, mid, to));
        }
    }
}
