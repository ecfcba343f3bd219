package bp.spark;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The all-reduce on N machines, each as fast as this one, from what {@code spark/run bench} has
 * just measured: a machine's time per sample (the local trainer), and the all-reduce's cost per
 * step beyond computing (on this machine: its two executors' step against the local trainer's for
 * the same batch). A step on N machines computes B/N rows on each, pays that cost, then sends
 * its bytes over a network of {@link #BYTES_PER_SECOND} with {@link #MESSAGE_SECONDS} a message:
 * two machines send each other whole gradients (one message each way), more do a reduce-scatter
 * and an all-gather (2(N−1) messages of P/N, 2(N−1)/N·P bytes a task). The efficiency is the share
 * of a step spent computing.
 */
final class ScalingModel {

    /** 10 Gb/s. */
    static final double BYTES_PER_SECOND = 1.25e9;
    /** A message's latency within a rack, wake-ups included. */
    static final double MESSAGE_SECONDS = 100e-6;
    private static final int[] MACHINES = {2, 4, 8, 16, 32, 64};
    private static final int[] BATCHES = {128, 512, 2048, 8192, 32768};
    private static final double TARGET = 0.7;

    private final double secondsPerSample;
    private final double stepCost;
    private final long gradientBytes;

    /**
     * @param localSamplesPerSecond the local trainer on this machine
     * @param allReduceSamplesPerSecond the all-reduce on this machine's executors, at {@code batch}
     * @param batch the measured batch
     * @param gradientBytes the bytes of a gradient
     */
    ScalingModel(double localSamplesPerSecond, double allReduceSamplesPerSecond, int batch, long gradientBytes) {
        this.secondsPerSample = 1 / localSamplesPerSecond;
        this.stepCost = Math.max(0, batch / allReduceSamplesPerSecond - batch * secondsPerSample);
        this.gradientBytes = gradientBytes;
    }

    /** {@return a step's time beyond computing on n machines} */
    double overhead(int n) {
        int messages = n == 2 ? 1 : 2 * (n - 1);
        double bytes = n == 2 ? gradientBytes : 2.0 * (n - 1) / n * gradientBytes;
        return stepCost + messages * MESSAGE_SECONDS + bytes / BYTES_PER_SECOND;
    }

    /** {@return the share of a step of {@code batch} rows on n machines spent computing} */
    double efficiency(int n, int batch) {
        double compute = batch * secondsPerSample / n;
        return compute / (compute + overhead(n));
    }

    /** {@return the smallest batch at which n machines compute {@value #TARGET} of the time} */
    long batchFor(int n) {
        return (long) Math.ceil(TARGET / (1 - TARGET) * overhead(n) * n / secondsPerSample);
    }

    void print(PrintStream out) {
        out.printf(Locale.ROOT, "all-reduce model: %.1f µs a sample on one machine; %.2f ms a step beyond computing "
                        + "(measured here); %.2f MB of gradient; 10 Gb/s, %.0f µs a message%n", 1e6 * secondsPerSample,
                1e3 * stepCost, gradientBytes / 1e6, 1e6 * MESSAGE_SECONDS);
        StringBuilder head = new StringBuilder("| N | overhead per step |");
        for (int b : BATCHES) {
            head.append(" B = ").append(b).append(" |");
        }
        out.println(head.append(" B for 70 % |"));
        out.println("|---:|---:|" + "---:|".repeat(BATCHES.length) + "---:|");
        for (int n : MACHINES) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %d | %.1f ms |", n, 1e3 * overhead(n)));
            for (int b : BATCHES) {
                row.append(String.format(Locale.ROOT, " %.0f %% |", 100 * efficiency(n, b)));
            }
            out.println(row.append(String.format(Locale.ROOT, " %,d |", batchFor(n))));
        }
    }
}
