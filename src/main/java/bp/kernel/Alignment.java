package bp.kernel;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.lang.management.ManagementFactory;

/**
 * Where a {@code float[]}'s cache lines start, so that buffers can put their rows there: a vector
 * load that straddles two 64-byte lines costs two accesses, and a GEMM's streamed operand (the
 * packed weights of the forward pass, the layer inputs of the weight gradient) is read a vector at
 * a time. On the Intel Xeon (AVX-512) the kernels ran 15-30 % faster with that operand on line
 * starts than 16 bytes off them ({@code GemmBench}'s shapes at 32 and 128 rows, one JVM).
 *
 * <p>Java says nothing about an array's address, but the JVM flag {@value #FLAG} puts every object
 * at a multiple of 64 bytes, and the floats of an array then start a fixed header's length after
 * it (16 bytes with compressed class pointers, 12 with compact object headers). With that flag
 * {@link #ORIGIN} is the first float of any {@code float[]} that starts a line; without it the
 * lines fall wherever the array does, {@code ORIGIN} is 0 and {@link #lineStart} pads nothing.
 * Where the rows start never changes a value, only the time it takes.
 */
public final class Alignment {

    /** The JVM flag that puts every object on a cache line ({@code tools/jvm.flags} has it). */
    public static final String FLAG = "-XX:ObjectAlignmentInBytes=64";

    /** Bytes per cache line. */
    static final int LINE_BYTES = 64;

    /** Floats per cache line: one AVX-512 vector, two AVX2 ones. */
    public static final int LINE_FLOATS = LINE_BYTES / Float.BYTES;

    /**
     * The length of the header before a {@code float[]}'s first element, in bytes, when this JVM
     * puts objects on cache lines and its header layout is one of the two known ones; -1 otherwise.
     */
    static final int HEADER_BYTES = headerBytes();

    /** The index of the first float of every {@code float[]} that starts a cache line; 0 when not known. */
    public static final int ORIGIN = HEADER_BYTES < 0 ? 0 : (LINE_BYTES - HEADER_BYTES) / Float.BYTES % LINE_FLOATS;

    private Alignment() {
    }

    /** Whether this JVM puts the floats of every array at a known place in its cache lines. */
    public static boolean known() {
        return HEADER_BYTES >= 0;
    }

    /** {@return the smallest index from {@code index} on that starts a cache line; {@code index} itself when that is not {@link #known}} */
    public static int lineStart(int index) {
        return known() ? index + Math.floorMod(ORIGIN - index, LINE_FLOATS) : index;
    }

    private static int headerBytes() {
        try {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            if (vm == null || Integer.parseInt(vm.getVMOption("ObjectAlignmentInBytes").getValue()) < LINE_BYTES) {
                return -1;
            }
            if (flagIsOn(vm, "UseCompactObjectHeaders")) {
                return 12; // the mark word holds the class; the length follows it
            }
            return flagIsOn(vm, "UseCompressedClassPointers") ? 16 : -1;
        } catch (RuntimeException | LinkageError e) {
            return -1; // not HotSpot, or a JVM without these flags: where lines start is not known
        }
    }

    private static boolean flagIsOn(HotSpotDiagnosticMXBean vm, String flag) {
        try {
            return Boolean.parseBoolean(vm.getVMOption(flag).getValue());
        } catch (IllegalArgumentException e) {
            return false; // a JDK without the flag (compact headers came in JDK 24)
        }
    }
}
