package bp.kernel;

import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warm-up reaches every kernel, so that none is left to be compiled in the middle of the first
 * epoch; a kernel added to {@link Kernels} and not to the warm-up fails here. Runs once per vector
 * width, like the kernel tests, so the warm-up's shapes are valid for each.
 */
class KernelWarmupTest {

    @Test
    void warmUpCallsEveryKernel() {
        Set<String> called = calls(KernelWarmup.Needs.ALL);

        Set<String> kernels = new TreeSet<>();
        for (Method m : Kernels.class.getMethods()) {
            if (Modifier.isAbstract(m.getModifiers()) && !m.getName().equals("description")) {
                kernels.add(signature(m));
            }
        }
        kernels.removeAll(called); // the default forms, which delegate to these, need no call of their own
        assertEquals(Set.of(), kernels, "kernels the warm-up never calls");
        for (Elementwise f : Elementwise.values()) {
            assertTrue(called.contains("activate:" + f) && called.contains("activateBackward:" + f), f.toString());
        }
    }

    /** The default network's warm-up: ReLU, softmax and Adam, and none of the others' kernels. */
    @Test
    void aRunsWarmUpCallsItsOwnKernelsAndNoOthers() {
        Set<String> called = calls(new KernelWarmup.Needs(EnumSet.of(Elementwise.RELU),
                EnumSet.of(KernelWarmup.RowActivation.SOFTMAX), EnumSet.of(KernelWarmup.Update.ADAM)));

        Set<String> activations = new TreeSet<>();
        Set<String> names = new TreeSet<>();
        for (String c : called) {
            if (c.contains(":")) {
                activations.add(c);
            } else {
                names.add(c.substring(0, c.indexOf('[')));
            }
        }
        assertEquals(Set.of("activate:RELU", "activateBackward:RELU"), activations);
        for (String needed : new String[] {"adamStep", "softmaxRows", "softmaxBackwardRows", "gemmPackedBias",
                "gemmABtBias", "gemmAB", "gemmAtB", "transpose", "columnSums", "axpy"}) {
            assertTrue(names.contains(needed), needed);
        }
        for (String other : new String[] {"sgdStep", "sgdOuterStep", "momentumStep", "rmspropStep", "prelu",
                "preluBackward", "maxout", "maxoutBackward"}) {
            assertFalse(names.contains(other), other + " is not the run's");
        }
    }

    /**
     * The products see every remainder of rows that the register blocks leave (VectorKernels: blocks
     * of six rows, or of four without AVX-512, then a pair and a single row; 6q + 2 rows as
     * 6(q − 1) + 4 + 4), so that no block kernel is first compiled in training.
     */
    @Test
    void warmUpTakesEveryBlockOfRows() {
        Set<Integer> rows = new TreeSet<>();
        KernelWarmup.exercise(recording((method, args) -> {
            if (method.getName().equals("gemmAB") && args.length == 11) {
                rows.add((Integer) args[7]);
            }
        }), 1, KernelWarmup.Needs.ALL);

        assertTrue(rows.stream().anyMatch(m -> m % 6 == 3), "a pair and a single row after blocks of six: " + rows);
        assertTrue(rows.stream().anyMatch(m -> m % 4 == 3), "a pair and a single row after blocks of four: " + rows);
        assertTrue(rows.stream().anyMatch(m -> m >= 8 && m % 6 == 2), "6(q − 1) + 4 + 4 rows: " + rows);
    }

    /**
     * The kernels that a warm-up of {@code needs} calls, by signature, and for the activations of
     * one value at a time also as "activate:RELU", "activateBackward:RELU" and so on.
     */
    private static Set<String> calls(KernelWarmup.Needs needs) {
        Set<String> called = new TreeSet<>();
        KernelWarmup.exercise(recording((method, args) -> {
            called.add(signature(method));
            if (args != null && args.length > 0 && args[0] instanceof Elementwise f) {
                called.add(method.getName() + ":" + f);
            }
        }), 2, needs);
        return called;
    }

    /** The vector kernels, with every call shown to {@code observer} (method and arguments) first. */
    private static Kernels recording(BiConsumer<Method, Object[]> observer) {
        Kernels vector = VectorKernels.preferred();
        return (Kernels) java.lang.reflect.Proxy.newProxyInstance(Kernels.class.getClassLoader(),
                new Class<?>[] {Kernels.class}, (proxy, method, args) -> {
                    observer.accept(method, args);
                    try {
                        return method.invoke(vector, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static String signature(Method m) {
        return m.getName() + Arrays.toString(m.getParameterTypes());
    }
}
