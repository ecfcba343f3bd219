package bp.train;

import bp.nn.Network;

/** Early stopping's best epoch so far: its number, validation loss and parameters. */
final class EarlyStopping {

    private final float[] parameters;
    private final int patience;
    private int epoch;
    private double loss = Double.POSITIVE_INFINITY;

    EarlyStopping(float[] start, int patience) {
        this.parameters = start.clone();
        this.patience = patience;
    }

    /** Takes an epoch's validation loss; whether {@code patience} epochs have passed without a better one. */
    boolean stopsAfter(int epochNumber, double validationLoss, float[] current) {
        if (validationLoss < loss) {
            loss = validationLoss;
            epoch = epochNumber;
            System.arraycopy(current, 0, parameters, 0, parameters.length);
            return false;
        }
        return epochNumber - epoch >= patience;
    }

    /** Takes the best epoch a checkpoint saved. */
    void restore(float[] bestParameters, int bestEpoch, double bestLoss) {
        System.arraycopy(bestParameters, 0, parameters, 0, parameters.length);
        epoch = bestEpoch;
        loss = bestLoss;
    }

    /** Gives the network the best epoch's parameters. */
    void restoreInto(Network net) {
        System.arraycopy(parameters, 0, net.parameters(), 0, parameters.length);
        net.parametersChanged();
    }

    float[] parameters() {
        return parameters.clone();
    }

    int epoch() {
        return epoch;
    }

    double loss() {
        return loss;
    }
}
