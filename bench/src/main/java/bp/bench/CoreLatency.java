package bp.bench;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What it costs one core to see a cache line another core has just written: two threads hand a
 * counter back and forth, each spinning until the other has bumped it, and the time per hand-over
 * is the one-way latency. Every value one thread of a training step writes and the other reads
 * (the activations, the deltas, a weight block the other thread updated) pays this, so it bounds
 * how well a step splits over two cores. On the 2-core EPYC VMs of this project it measured 237 ns
 * (Zen 5), where two cores of one CCX take 20–40 ns: the two vCPUs sit far apart on the host.
 *
 * <p>Usage: {@code java -cp benchmarks.jar bp.bench.CoreLatency}; bench/run peak prints its line.
 */
public final class CoreLatency {

    private static final int HAND_OVERS = 1_000_000;

    private CoreLatency() {
    }

    /** Nanoseconds per hand-over of {@code count} between two threads: even values are this thread's turn. */
    static double handOver(int count) throws InterruptedException {
        AtomicInteger turn = new AtomicInteger();
        Thread other = new Thread(() -> {
            for (int i = 1; i < count; i += 2) {
                while (turn.get() != i) {
                    Thread.onSpinWait();
                }
                turn.set(i + 1);
            }
        });
        other.start();
        long start = System.nanoTime();
        for (int i = 0; i < count; i += 2) {
            while (turn.get() != i) {
                Thread.onSpinWait();
            }
            turn.set(i + 1);
        }
        while (turn.get() != count) {
            Thread.onSpinWait();
        }
        long elapsed = System.nanoTime() - start;
        other.join();
        return (double) elapsed / count;
    }

    public static void main(String[] args) throws InterruptedException {
        if (Runtime.getRuntime().availableProcessors() < 2) {
            System.out.println("core-to-core latency: needs 2 cores");
            return;
        }
        handOver(HAND_OVERS / 10); // compile before measuring
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            best = Math.min(best, handOver(HAND_OVERS));
        }
        System.out.printf(java.util.Locale.ROOT, "core-to-core latency: %.0f ns one way (a cache line handed between two threads)%n", best);
    }
}
