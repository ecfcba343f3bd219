package bp.train;

import bp.data.Dataset;
import bp.nn.Network;

/**
 * Rows a {@link TrainingRun} trains on or evaluates, as its loop sees them: how many, how wide,
 * and how a network does on them. A {@link Dataset} in this JVM is one ({@link #of}); rows that
 * live elsewhere, such as bp-spark's partitions of a Parquet table that never reach the driver,
 * are another: a run trains on them only with a {@link TrainingStep} of their own
 * ({@link Trainer.Builder#steps}), and they evaluate a network where they are.
 */
public interface Rows {

    /** {@return a name for messages, such as the file the rows came from} */
    String name();

    /** {@return the number of rows} */
    long size();

    /** {@return the features of a row} */
    int featureCount();

    /** {@return the classes (classification) or target values (regression) of a row} */
    int targetWidth();

    /** {@return whether the rows have class labels} */
    boolean isClassification();

    /**
     * The figures of {@code net} on these rows.
     *
     * @param net the network
     * @return its loss and accuracy here
     */
    Evaluation evaluate(Network net);

    /** {@return the rows as a Dataset when they are in this JVM, else null} */
    default Dataset local() {
        return null;
    }

    /**
     * The rows of a Dataset in this JVM.
     *
     * @param data the dataset, or null
     * @return it, as rows; null for null
     */
    static Rows of(Dataset data) {
        return data == null ? null : new Local(data);
    }

    /** A Dataset's rows; {@link TrainingRun} evaluates them on its own threads. */
    record Local(Dataset local) implements Rows {
        @Override
        public String name() {
            return local.name();
        }

        @Override
        public long size() {
            return local.size();
        }

        @Override
        public int featureCount() {
            return local.featureCount();
        }

        @Override
        public int targetWidth() {
            return local.targetWidth();
        }

        @Override
        public boolean isClassification() {
            return local.isClassification();
        }

        @Override
        public Evaluation evaluate(Network net) {
            return Trainer.evaluate(net, local);
        }
    }
}
