package bp.spark;

import bp.nn.LayerActivation;
import bp.nn.Loss;
import bp.nn.Network;

import java.io.Serializable;
import java.util.Arrays;

/** A network's architecture, sent to the executors so that each rebuilds the network around the step's parameters. */
record Architecture(int[] sizes, String[] activations, String loss) implements Serializable {

    static Architecture of(Network net) {
        String[] acts = new String[net.layerCount()];
        for (int l = 0; l < acts.length; l++) {
            acts[l] = net.layerActivation(l).label();
        }
        return new Architecture(net.sizes(), acts, net.loss().label());
    }

    Network build(float[] parameters) {
        return Network.ofLayers(sizes, Arrays.stream(activations).map(LayerActivation::parse).toList(),
                Loss.parse(loss), parameters);
    }
}
