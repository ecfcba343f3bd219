package bp.spark;

import bp.data.Dataset;

import java.io.Serializable;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/** A {@link Dataset} as plain arrays, broadcast to the executors once per training run. */
record TrainingData(String name, float[] features, int featureCount, int[] labels, int classes, float[] targets,
                    int targetWidth) implements Serializable {

    /**
     * Executors rebuild a broadcast's Dataset once, not once per task; the entry goes when Spark drops
     * the broadcast value (a record of arrays compares by the arrays' identity).
     */
    private static final Map<TrainingData, Dataset> REBUILT = Collections.synchronizedMap(new WeakHashMap<>());

    static TrainingData of(Dataset d) {
        if (d.isClassification()) {
            int[] labels = new int[d.size()];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = d.label(i);
            }
            return new TrainingData(d.name(), d.features(), d.featureCount(), labels, d.classCount(), null, 0);
        }
        return new TrainingData(d.name(), d.features(), d.featureCount(), null, 0, d.targets(), d.targetWidth());
    }

    Dataset toDataset() {
        return labels != null ? Dataset.classification(name, features, featureCount, labels, classes)
                : Dataset.regression(name, features, featureCount, targets, targetWidth);
    }

    /** The dataset of this broadcast value, rebuilt on first use in this JVM. */
    Dataset cached() {
        return REBUILT.computeIfAbsent(this, TrainingData::toDataset);
    }
}
