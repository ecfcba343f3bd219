package bp.kernel;

import java.lang.System.Logger.Level;

/**
 * Chooses the kernels once per JVM: the Vector API kernels when {@code jdk.incubator.vector} is
 * readable and its preferred species has at least 4 float lanes, else the scalar ones. The system
 * property {@code bp.kernels=scalar|vector} forces a choice; {@code bp.vectorBits=128|256|512}
 * forces a species width (wider than the hardware runs, slowly, in Java).
 */
public final class KernelSelection {

    /**
     * The JVM flag that keeps each SIMD kernel its own compilation unit: inlined into the trainer,
     * they run 5-10 % slower (measured with bp bench train, batch 128, 2 threads). It cannot be set
     * from inside the JVM, so bp says once when it runs without it. {@code tools/jvm.flags} holds it
     * for the scripts, the builds and the benchmarks.
     */
    public static final String KERNELS_APART = "-XX:CompileCommand=dontinline,bp.kernel.VectorKernels::*";

    static final Kernels CHOSEN;
    /** Where {@link Kernels#newToken()} counts from. */
    static final java.util.concurrent.atomic.AtomicLong TOKENS = new java.util.concurrent.atomic.AtomicLong();
    private static final String REASON;

    static {
        String requested = System.getProperty("bp.kernels", "auto").trim().toLowerCase(java.util.Locale.ROOT);
        Kernels chosen = ScalarKernels.INSTANCE;
        String reason;
        if (requested.equals("scalar")) {
            reason = "forced by -Dbp.kernels=scalar";
        } else {
            String why;
            try {
                Kernels vector = (Kernels) Class.forName("bp.kernel.VectorKernels")
                        .getMethod("preferred").invoke(null);
                why = vector == null ? "the preferred vector species has fewer than 4 float lanes" : null;
                if (vector != null) {
                    chosen = vector;
                }
            } catch (ReflectiveOperationException | LinkageError e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                why = "the Vector API is not available (" + cause.getClass().getSimpleName()
                        + "); run java with --add-modules jdk.incubator.vector";
            }
            reason = why == null ? "Vector API available" : why;
            if (why != null) {
                System.getLogger("bp").log(Level.WARNING, "bp uses scalar kernels: " + why);
            }
        }
        CHOSEN = chosen;
        REASON = reason;
        if (chosen != ScalarKernels.INSTANCE && !jvmHasFlag(KERNELS_APART)) {
            System.getLogger("bp").log(Level.INFO, "bp: the SIMD kernels run 5-10 % faster with the JVM flag "
                    + KERNELS_APART + " (tools/bp passes it)");
        }
        if (chosen != ScalarKernels.INSTANCE && !Alignment.known()) {
            System.getLogger("bp").log(Level.INFO, "bp: the SIMD kernels run up to 10-30 % faster with the JVM flag "
                    + Alignment.FLAG + ", which lets bp put its buffers' rows on cache lines (tools/bp passes it)");
        }
    }

    private static boolean jvmHasFlag(String flag) {
        return java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().contains(flag);
    }

    private KernelSelection() {
    }

    /** The JDK's preferred float vector species, or why there is none. */
    public static String preferredSpecies() {
        try {
            Class<?> fv = Class.forName("jdk.incubator.vector.FloatVector");
            return String.valueOf(fv.getField("SPECIES_PREFERRED").get(null));
        } catch (ReflectiveOperationException | LinkageError e) {
            return "unavailable (run java with --add-modules jdk.incubator.vector)";
        }
    }

    /** Why the current kernels were chosen, for {@code bp info}. */
    public static String reason() {
        return REASON;
    }
}
