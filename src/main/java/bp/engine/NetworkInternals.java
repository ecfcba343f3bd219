package bp.engine;

import bp.kernel.Elementwise;
import bp.kernel.KernelWarmup;
import bp.kernel.Kernels;
import bp.nn.Activation;
import bp.nn.Network;

import java.util.Collection;
import java.util.EnumSet;
import java.util.Set;

/**
 * What the engine needs of a {@link Network} that is no part of bp's API: the kernels it computes
 * with, its cached packed weights and its activations' elementwise kernels. {@code Network} hands these over when its class loads (the
 * JDK's shared-secrets pattern), so they stay out of the exported package while the engine, which
 * lives in a package the module does not export, can still reach them.
 */
public final class NetworkInternals {

    /** Implemented by {@code Network}. */
    public interface Access {
        /** The kernels {@code net} computes with. */
        Kernels kernels(Network net);

        /** {@code net}'s packed weights, refreshed if its parameters changed since the last call. */
        TransposedWeights transposedWeights(Network net);

        /** How many times {@code net}'s parameters have been said to change ({@code parametersChanged}). */
        int parameterVersion(Network net);

        /** The kernels of an activation of one value at a time, null for the others. */
        Elementwise elementwise(Activation activation);
    }

    private static volatile Access access;

    private NetworkInternals() {
    }

    /** Called once, by {@code Network}'s static initializer. */
    public static void register(Access networkAccess) {
        if (access != null) {
            throw new IllegalStateException("network internals already registered");
        }
        access = networkAccess;
    }

    /** Any Network instance exists only after its class ran {@link #register}, so access is set here. */
    static Kernels kernels(Network net) {
        return access.kernels(net);
    }

    /**
     * The network's packed weights for inference, current with its parameters.
     *
     * @param net the network
     * @return its packed weights
     */
    public static TransposedWeights transposedWeights(Network net) {
        return access.transposedWeights(net);
    }

    /**
     * {@return how many times {@code net}'s parameters have been said to change}: a copy of them
     * made at one count is stale at another.
     */
    static int parameterVersion(Network net) {
        return access.parameterVersion(net);
    }

    /**
     * The kernels that layers with these activations call, and the update rules: what the kernel
     * warm-up of a run that trains such a network needs to compile.
     *
     * @param activations the layers' activations
     * @param updates the optimizer's update rules
     * @return the warm-up's needs
     */
    public static KernelWarmup.Needs warmupNeeds(Collection<Activation> activations, Set<KernelWarmup.Update> updates) {
        Set<Elementwise> elementwise = EnumSet.noneOf(Elementwise.class);
        Set<KernelWarmup.RowActivation> byRows = EnumSet.noneOf(KernelWarmup.RowActivation.class);
        for (Activation a : activations) {
            switch (a) {
                case SOFTMAX -> byRows.add(KernelWarmup.RowActivation.SOFTMAX);
                case PRELU -> byRows.add(KernelWarmup.RowActivation.PRELU);
                case MAXOUT -> byRows.add(KernelWarmup.RowActivation.MAXOUT);
                default -> elementwise.add(registered().elementwise(a));
            }
        }
        return new KernelWarmup.Needs(elementwise, byRows, updates);
    }

    /** {@link #access}, registering it first if no Network exists yet (it is set as Network's class initializes). */
    private static Access registered() {
        if (access == null) {
            try {
                Class.forName(Network.class.getName(), true, Network.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
        return access;
    }

    /** The kernels of layer l's activation when it acts on one value at a time, else null. */
    static Elementwise elementwise(Network net, int l) {
        return access.elementwise(net.activation(l));
    }
}
