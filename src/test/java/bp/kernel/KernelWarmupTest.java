package bp.kernel;

import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The warm-up reaches every kernel, so that none is left to be compiled in the middle of the first
 * epoch; a kernel added to {@link Kernels} and not to the warm-up fails here. Runs once per vector
 * width, like the kernel tests, so the warm-up's shapes are valid for each.
 */
class KernelWarmupTest {

    @Test
    void warmUpCallsEveryKernel() {
        Kernels vector = VectorKernels.preferred();
        Set<String> called = new TreeSet<>();
        Kernels recording = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(),
                new Class<?>[] {Kernels.class}, (proxy, method, args) -> {
                    called.add(signature(method));
                    try {
                        return method.invoke(vector, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        KernelWarmup.exercise(recording, 2);

        Set<String> kernels = new TreeSet<>();
        for (Method m : Kernels.class.getMethods()) {
            if (Modifier.isAbstract(m.getModifiers()) && !m.getName().equals("description")) {
                kernels.add(signature(m));
            }
        }
        kernels.removeAll(called); // the default forms, which delegate to these, need no call of their own
        assertEquals(Set.of(), kernels, "kernels the warm-up never calls");
    }

    private static String signature(Method m) {
        return m.getName() + Arrays.toString(m.getParameterTypes());
    }
}
