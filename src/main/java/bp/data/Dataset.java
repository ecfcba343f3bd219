package bp.data;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Samples in memory: dense float features ({@code size × features}, row-major), float targets
 * ({@code size × targetWidth}) and, for classification, the class label of each sample (the
 * targets are then its one-hot encoding).
 */
public final class Dataset {

    private final String name;
    private final float[] features;
    private final int featureCount;
    private final float[] targets;
    private final int targetWidth;
    private final int[] labels;
    private final java.util.List<String> classNames;
    private final int size;

    private Dataset(String name, float[] features, int featureCount, float[] targets, int targetWidth, int[] labels) {
        this(name, features, featureCount, targets, targetWidth, labels, null);
    }

    private Dataset(String name, float[] features, int featureCount, float[] targets, int targetWidth, int[] labels,
                    java.util.List<String> classNames) {
        if (featureCount <= 0 || targetWidth <= 0) {
            throw new IllegalArgumentException(name + ": features and targets need a positive width");
        }
        if (features.length % featureCount != 0 || targets.length / targetWidth != features.length / featureCount
                || targets.length % targetWidth != 0) {
            throw new IllegalArgumentException(name + ": " + features.length + " feature values and "
                    + targets.length + " target values do not make whole rows of " + featureCount + " and "
                    + targetWidth);
        }
        this.name = name;
        this.features = features;
        this.featureCount = featureCount;
        this.targets = targets;
        this.targetWidth = targetWidth;
        this.labels = labels;
        this.classNames = classNames;
        this.size = features.length / featureCount;
    }

    /**
     * A classification set: {@code labels[i]} in {@code [0, classes)} is the class of row i.
     *
     * @param name a name for messages
     * @param features the rows' features one after another (kept, not copied)
     * @param featureCount features per row
     * @param labels the class of each row
     * @param classes the number of classes
     * @return the set, with one-hot targets
     */
    public static Dataset classification(String name, float[] features, int featureCount, int[] labels, int classes) {
        if (labels.length * (long) featureCount != features.length) {
            throw new IllegalArgumentException(name + ": " + labels.length + " labels for "
                    + features.length / Math.max(1, featureCount) + " rows");
        }
        float[] oneHot = new float[labels.length * classes];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException(name + ": label " + labels[i] + " of row " + i
                        + " is outside 0.." + (classes - 1));
            }
            oneHot[i * classes + labels[i]] = 1f;
        }
        return new Dataset(name, features, featureCount, oneHot, classes, labels.clone());
    }

    /**
     * A regression set with {@code targetWidth} real targets per row.
     *
     * @param name a name for messages
     * @param features the rows' features one after another (kept, not copied)
     * @param featureCount features per row
     * @param targets the rows' targets one after another
     * @param targetWidth targets per row
     * @return the set
     */
    public static Dataset regression(String name, float[] features, int featureCount, float[] targets, int targetWidth) {
        return new Dataset(name, features, featureCount, targets, targetWidth, null);
    }

    /**
     * The set's name, for messages (e.g. its file's).
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * The number of rows.
     *
     * @return the number of rows
     */
    public int size() {
        return size;
    }

    /**
     * Features per row.
     *
     * @return features per row
     */
    public int featureCount() {
        return featureCount;
    }

    /**
     * Targets per row: the classes of a classification set (one-hot), or the regression outputs.
     *
     * @return targets per row
     */
    public int targetWidth() {
        return targetWidth;
    }

    /**
     * Whether the rows have class labels (else real-valued targets).
     *
     * @return whether it is a classification set
     */
    public boolean isClassification() {
        return labels != null;
    }

    /**
     * Number of classes (the target width) of a classification set.
     *
     * @return the number of classes
     */
    public int classCount() {
        return targetWidth;
    }

    /**
     * The live feature array, {@code size × featureCount}.
     *
     * @return the features, row by row (not a copy)
     */
    public float[] features() {
        return features;
    }

    /**
     * The live target array, {@code size × targetWidth}.
     *
     * @return the targets, row by row (not a copy)
     */
    public float[] targets() {
        return targets;
    }

    /**
     * The class of row {@code i}; only for classification sets.
     *
     * @param i the row
     * @return its class
     */
    public int label(int i) {
        if (labels == null) {
            throw new IllegalStateException(name + " is a regression set: it has no labels");
        }
        return labels[i];
    }

    /**
     * The names of the classes, class i the i-th, when the labels were names (such as read from a
     * CSV file with {@code cat}, {@code dog}); {@code null} when they were class indices.
     *
     * @return the names, or {@code null}
     */
    public java.util.List<String> classNames() {
        return classNames;
    }

    /**
     * The same rows with names for the classes, one per class.
     *
     * @param names one per class
     * @return the set with them
     */
    public Dataset withClassNames(java.util.List<String> names) {
        if (labels == null || names.size() != targetWidth) {
            throw new IllegalArgumentException(name + ": " + names.size() + " class names for " + targetWidth
                    + (labels == null ? " targets" : " classes"));
        }
        return new Dataset(name, features, featureCount, targets, targetWidth, labels, java.util.List.copyOf(names));
    }

    /**
     * The same rows and targets with other features ({@code size × featureCount} values), e.g. scaled.
     *
     * @param newFeatures the features, kept (not copied)
     * @return the set with them
     */
    public Dataset withFeatures(float[] newFeatures) {
        if (newFeatures.length != features.length) {
            throw new IllegalArgumentException(name + ": " + newFeatures.length + " feature values for "
                    + features.length);
        }
        return new Dataset(name, newFeatures, featureCount, targets, targetWidth, labels, classNames);
    }

    /**
     * The same rows with the one-hot targets widened to {@code classes} classes.
     *
     * @param classes at least the current count
     * @return the widened set
     */
    public Dataset withClassCount(int classes) {
        return classification(name, features, featureCount, labels, classes);
    }

    /**
     * The rows at the given indices, in that order.
     *
     * @param newName the name of the result
     * @param rows indices of rows of this set
     * @return a new set of those rows
     */
    public Dataset select(String newName, int[] rows) {
        float[] x = new float[rows.length * featureCount];
        float[] y = new float[rows.length * targetWidth];
        int[] l = labels == null ? null : new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(features, rows[i] * featureCount, x, i * featureCount, featureCount);
            System.arraycopy(targets, rows[i] * targetWidth, y, i * targetWidth, targetWidth);
            if (l != null) {
                l[i] = labels[rows[i]];
            }
        }
        return new Dataset(newName, x, featureCount, y, targetWidth, l, classNames);
    }

    /**
     * Splits the rows at random (from {@code rng}) into a first part holding {@code fraction} of
     * them and a second part holding the rest.
     *
     * @param fraction the first part's share, between 0 and 1
     * @param rng the source of the random order
     * @return the two parts
     */
    public Dataset[] split(double fraction, RandomGenerator rng) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("split fraction must be between 0 and 1, not " + fraction);
        }
        int[] order = permutation(size, rng);
        int first = (int) Math.round(size * fraction);
        return new Dataset[] {
                select(name + " (first " + first + ")", Arrays.copyOfRange(order, 0, first)),
                select(name + " (last " + (size - first) + ")", Arrays.copyOfRange(order, first, size))};
    }

    /**
     * A uniformly random permutation of {@code 0..n-1} (Fisher–Yates).
     *
     * @param n the number of elements
     * @param rng the source of randomness
     * @return the permutation
     */
    public static int[] permutation(int n, RandomGenerator rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        shuffle(p, rng);
        return p;
    }

    /**
     * Shuffles in place (Fisher–Yates).
     *
     * @param p the array to shuffle
     * @param rng the source of randomness
     */
    public static void shuffle(int[] p, RandomGenerator rng) {
        for (int i = p.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
    }

    /**
     * Multiplies every feature by {@code factor}, in place (e.g. 1/16 for 4-bit pixels).
     *
     * @param factor what each feature is multiplied by
     * @return this set
     */
    public Dataset scaleFeatures(float factor) {
        for (int i = 0; i < features.length; i++) {
            features[i] *= factor;
        }
        return this;
    }

    @Override
    public String toString() {
        return name + " (" + size + " rows, " + featureCount + " features, "
                + (isClassification() ? targetWidth + " classes" : targetWidth + " targets") + ")";
    }
}
