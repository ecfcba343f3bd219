package bp.train;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Where a training step's time goes: for each phase (the forward pass, each layer's backward pass
 * with the updates folded into it, the separate update pass), its wall time and the time its
 * threads spent in tasks; the rest of {@code wall × threads} is time a thread waited at the phase's
 * end. The forward pass's busy time is also split into its parts: gathering the input rows, each
 * layer, and the loss (however the pass was shared out, by rows or by units), and the output
 * layer's input gradient where the step computes it there. Pass one to
 * {@link Trainer.Builder#profile}; {@code bp bench train --profile} prints it. Timing every task
 * costs a little, so a run without a profile does none of it.
 */
public final class StepProfile {

    static final int FORWARD = 0;
    static final int UPDATE = 1;

    private final long[] wall;
    /**
     * Each thread's busy time and tasks per phase: thread t's from {@code t · region}, phase p's
     * busy time at {@code 2p} and task count at {@code 2p + 1}, the regions whole cache lines apart
     * so that the threads never write the same line.
     */
    private AtomicLongArray byThread;
    private final int region;
    private int threads;
    /** Busy time of the forward pass's parts: the gather, each layer, the loss, the output layer's input gradient. */
    private final AtomicLongArray forwardParts;
    private final int layers;
    private long steps;
    private long stepNanos;

    /**
     * An empty profile for a network of {@code layers} layers.
     *
     * @param layers the network's layers
     */
    public StepProfile(int layers) {
        this.wall = new long[2 + layers];
        this.region = (2 * wall.length + 15) / 16 * 16 + 16;
        threads(1);
        this.forwardParts = new AtomicLongArray(layers + 3);
        this.layers = layers;
    }

    static int backward(int layer) {
        return 2 + layer;
    }

    /** The forward part that gathers the input rows. */
    static final int GATHER = 0;

    /** The forward part of layer l. */
    static int forwardLayer(int layer) {
        return 1 + layer;
    }

    /** The forward part that computes the loss and scores the rows, in a network of {@code layers} layers. */
    static int loss(int layers) {
        return layers + 1;
    }

    /**
     * The forward part that computes the output layer's input gradient for the rows just scored,
     * where the step does that in the forward pass (one phase fewer), in a network of {@code
     * layers} layers.
     */
    static int outputInputGradient(int layers) {
        return layers + 2;
    }

    void phase(int phase, long nanos) {
        wall[phase] += nanos;
    }

    /** Sizes the profile for steps run by {@code threads} threads; forgets what was measured on another count. */
    void threads(int threads) {
        if (threads != this.threads) {
            this.threads = threads;
            byThread = new AtomicLongArray(threads * region);
        }
    }

    /** One task of {@code phase} on thread {@code thread} (its {@code bp.kernel.Parallel.threadIndex()}). */
    void busy(int phase, int thread, long nanos) {
        int at = thread * region + 2 * phase;
        byThread.addAndGet(at, nanos);
        byThread.incrementAndGet(at + 1);
    }

    void forwardPart(int part, long nanos) {
        forwardParts.addAndGet(part, nanos);
    }

    void step(long nanos) {
        steps++;
        stepNanos += nanos;
    }

    /** Forgets what was measured so far (e.g. the warm-up epochs). */
    public void reset() {
        java.util.Arrays.fill(wall, 0);
        for (int i = 0; i < byThread.length(); i++) {
            byThread.set(i, 0);
        }
        for (int i = 0; i < forwardParts.length(); i++) {
            forwardParts.set(i, 0);
        }
        steps = 0;
        stepNanos = 0;
    }

    /**
     * A table in microseconds per step: each phase's wall time, busy time over all threads, and the
     * threads' waits; with several threads, each thread's busy time and tasks per step (a thread
     * that runs every task slower than the others, or a phase whose tasks all take longer than on
     * one thread, shows there); under the forward pass, the busy time of its parts. The waits are
     * taken against the thread count the steps ran on, which the profile learns from them.
     *
     * @return the table, one line per phase
     */
    public String report() {
        StringBuilder s = new StringBuilder();
        double n = Math.max(1, steps);
        boolean perThread = threads > 1;
        s.append(String.format(Locale.ROOT, "%-26s %10s %10s %10s %7s%s%n", "phase (µs per step)", "wall", "busy",
                "waiting", "share", perThread ? "   busy by thread (tasks)" : ""));
        double phases = 0;
        for (int p = 0; p < wall.length; p++) {
            if (wall[p] == 0) {
                continue;
            }
            double w = wall[p] / n / 1e3;
            double b = busyMicros(p);
            phases += w;
            s.append(String.format(Locale.ROOT, "%-26s %10.1f %10.1f %10.1f %6.1f%%", name(p), w, b,
                    Math.max(0, w * threads - b), 100 * w / (stepNanos / n / 1e3)));
            for (int t = 0; perThread && t < threads; t++) {
                s.append(String.format(Locale.ROOT, "%s%.1f (%.1f)", t == 0 ? "   " : " / ",
                        threadBusyMicros(p, t), byThread.get(t * region + 2 * p + 1) / n));
            }
            s.append(System.lineSeparator());
            if (p == FORWARD) {
                for (int part = 0; part < forwardParts.length(); part++) {
                    if (part == outputInputGradient(layers) && forwardParts.get(part) == 0) {
                        continue; // the step computes it in the backward pass
                    }
                    s.append(String.format(Locale.ROOT, "  %-24s %10s %10.1f%n", partName(part), "",
                            forwardPartMicros(part)));
                }
            }
        }
        double total = stepNanos / n / 1e3;
        s.append(String.format(Locale.ROOT, "%-26s %10.1f %10s %10s %6.1f%%%n", "outside the phases",
                total - phases, "", "", 100 * (total - phases) / total));
        s.append(String.format(Locale.ROOT, "%-26s %10.1f   (%d steps, %d threads)%n", "step", total, steps, threads));
        return s.toString();
    }

    /** Busy time of a phase, in microseconds per step. */
    double busyMicros(int phase) {
        double micros = 0;
        for (int t = 0; t < threads; t++) {
            micros += threadBusyMicros(phase, t);
        }
        return micros;
    }

    /** Busy time of a phase on one thread, in microseconds per step. */
    double threadBusyMicros(int phase, int thread) {
        return byThread.get(thread * region + 2 * phase) / Math.max(1.0, steps) / 1e3;
    }

    /** Busy time of a forward part, in microseconds per step. */
    double forwardPartMicros(int part) {
        return forwardParts.get(part) / Math.max(1.0, steps) / 1e3;
    }

    private String partName(int part) {
        return part == GATHER ? "input rows" : part == loss(layers) ? "loss"
                : part == outputInputGradient(layers) ? "output's input gradient" : "layer " + (part - 1);
    }

    private String name(int phase) {
        return switch (phase) {
            case FORWARD -> "forward + loss";
            case UPDATE -> "update (separate pass)";
            default -> "backward layer " + (phase - 2) + " + updates";
        };
    }
}
