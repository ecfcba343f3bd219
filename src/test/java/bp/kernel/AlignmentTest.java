package bp.kernel;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where a float[]'s cache lines start, checked against the JVM's own word for its array header. */
class AlignmentTest {

    /**
     * The test JVMs run with tools/jvm.flags, which puts objects on cache lines: then {@link
     * Alignment#ORIGIN}'s float sits at a multiple of 64 bytes from the object's start. Unsafe
     * (here only, never in bp) knows the header's length; a wrong guess of it would leave every
     * buffer's rows off their lines, which no other test would see.
     */
    @Test
    void theOriginIsALineStartByTheJvmsOwnHeaderLength() throws ReflectiveOperationException {
        assertTrue(Alignment.known(), "the test JVM runs without " + Alignment.FLAG + " (tools/jvm.flags has it)");
        // by reflection: the tests compile as module bp, which does not read jdk.unsupported
        int header = Class.forName("sun.misc.Unsafe").getField("ARRAY_FLOAT_BASE_OFFSET").getInt(null);
        assertEquals(header, Alignment.HEADER_BYTES);
        assertEquals(0, (header + Float.BYTES * Alignment.ORIGIN) % Alignment.LINE_BYTES, "header " + header);
        assertTrue(Alignment.ORIGIN >= 0 && Alignment.ORIGIN < Alignment.LINE_FLOATS);
    }

    @Test
    void lineStartIsTheNextLineFromAnIndex() {
        for (int i = 0; i < 100; i++) {
            int start = Alignment.lineStart(i);
            assertTrue(start >= i && start < i + Alignment.LINE_FLOATS, i + " -> " + start);
            assertEquals(0, Math.floorMod(start - Alignment.ORIGIN, Alignment.LINE_FLOATS), i + " -> " + start);
        }
        assertEquals(Alignment.ORIGIN, Alignment.lineStart(0));
        assertEquals(Alignment.ORIGIN + Alignment.LINE_FLOATS, Alignment.lineStart(Alignment.ORIGIN + 1));
    }
}
