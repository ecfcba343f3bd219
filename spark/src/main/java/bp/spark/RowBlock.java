package bp.spark;

import bp.data.Dataset;

import java.io.Serializable;
import java.util.Collections;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.WeakHashMap;

/**
 * One partition's rows as compact arrays, cached on its executor: {@code rows × width} features,
 * and a label per row (classification) or {@code rows × targetWidth} targets (regression). A
 * block that failed a check holds no rows and says why in {@code problem}.
 *
 * @param partition the partition's index
 * @param rows its rows
 * @param width features per row (0 when there are no rows)
 * @param features the features, row by row
 * @param labels the class of each row, or null for regression
 * @param maxLabel the largest label (−1 when none)
 * @param targets the targets, row by row, or null for classification
 * @param targetWidth targets per row (0 for classification)
 * @param problem the first bad row found, or null
 */
record RowBlock(int partition, int rows, int width, float[] features, int[] labels, int maxLabel, float[] targets,
                int targetWidth, String problem) implements Serializable {

    /**
     * Each cached block's Dataset, made once per executor rather than once per round or epoch (its
     * one-hot targets are another copy of the rows); the entry goes when Spark drops the block (a
     * record of arrays compares by the arrays' identity).
     */
    private static final Map<RowBlock, Dataset> DATASETS = Collections.synchronizedMap(new WeakHashMap<>());

    /** The block as a bp Dataset of {@code classes} classes (ignored for regression), made once per executor. */
    Dataset dataset(String name, int classes) {
        Dataset d = DATASETS.get(this);
        if (d == null || !d.name().equals(name) || (labels != null && d.classCount() != classes)) {
            d = labels != null ? Dataset.classification(name, features, width, labels, classes)
                    : Dataset.regression(name, features, width, targets, targetWidth);
            DATASETS.put(this, d);
        }
        return d;
    }

    /**
     * The order of the block's rows in an epoch: it depends on the run's seed, the epoch and the
     * block's partition only, so whichever task holds the block trains its rows in the same order.
     */
    int[] epochOrder(long seed, int epoch) {
        long mixed = seed * 0x9E3779B97F4A7C15L + epoch * 1_000_003L + partition;
        return Dataset.permutation(rows, new SplittableRandom(mixed));
    }

    /** What the driver collects to check the rows: the block without its arrays. */
    RowBlock summary() {
        return new RowBlock(partition, rows, width, null, null, maxLabel, null, targetWidth, problem);
    }
}
