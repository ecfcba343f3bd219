package bp.spark;

import bp.data.DataException;
import bp.nn.Network;
import bp.train.Evaluation;
import bp.train.EvaluationSums;
import bp.train.Rows;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * Rows of a Spark DataFrame (e.g. a Parquet table) that stay on the executors: each partition is
 * read once into a {@link RowBlock} of compact float arrays and cached there; the driver sees only
 * the blocks' sizes. Every row is checked as it is read, and a bad one refuses the whole set
 * before any training, with one line naming the set and the column.
 */
public final class ParquetRows implements Rows, AutoCloseable {

    /**
     * Which columns hold a row's features and its label (classification) or targets (regression).
     * The features are one column of arrays of numbers, or several numeric columns in order; the
     * label an integer column (0 … classes − 1); the targets one array column or several numeric
     * columns.
     *
     * @param features the feature columns
     * @param label the label column, or null for regression
     * @param targets the target columns, or null for classification
     */
    public record Columns(List<String> features, String label, List<String> targets) implements Serializable {

        /** The columns {@code bp spark-train} reads by default, which {@code spark/run convert} writes. */
        public static final Columns DEFAULT = classification("features", "label");

        public Columns {
            features = List.copyOf(features);
            targets = targets == null ? null : List.copyOf(targets);
            if (features.isEmpty() || (label == null) == (targets == null || targets.isEmpty())) {
                throw new IllegalArgumentException("name feature columns, and either a label column or target columns");
            }
        }

        /**
         * Classification rows.
         *
         * @param features an array or Spark ML vector column, or several numeric columns separated by commas
         * @param label an integer column
         * @return the columns
         */
        public static Columns classification(String features, String label) {
            return new Columns(split(features), label, null);
        }

        /**
         * Regression rows.
         *
         * @param features an array or Spark ML vector column, or several numeric columns separated by commas
         * @param targets an array or Spark ML vector column, or several numeric columns separated by commas
         * @return the columns
         */
        public static Columns regression(String features, String targets) {
            return new Columns(split(features), null, split(targets));
        }

        private static List<String> split(String names) {
            return Arrays.stream(names.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        }

        List<String> all() {
            List<String> all = new ArrayList<>(features);
            if (label != null) {
                all.add(label);
            } else {
                all.addAll(targets);
            }
            return all;
        }
    }

    /** The column that orders the rows while they are read: a hash of the selected columns. */
    private static final String HASH = "_bp_row_hash";

    private final String name;
    private final JavaRDD<RowBlock> blocks;
    private final long size;
    private final int width;
    private final int classes;
    private final int targetWidth;
    private final long[] shardRows;

    private ParquetRows(String name, JavaRDD<RowBlock> blocks, long size, int width, int classes, int targetWidth,
                        long[] shardRows) {
        this.shardRows = shardRows;
        this.name = name;
        this.blocks = blocks;
        this.size = size;
        this.width = width;
        this.classes = classes;
        this.targetWidth = targetWidth;
    }

    /**
     * Reads a Parquet table (a file or a directory of them) into cached blocks.
     *
     * @param spark the session
     * @param path the table
     * @param columns where the features and labels are
     * @param partitions blocks to spread the rows over (by a hash of each row, so that the blocks do
     *                   not depend on the cluster)
     * @param classes the classes the labels must be among; 0 to take them from the data (largest label + 1)
     * @return the rows, checked
     * @throws DataException when the table or a row is not what bp trains on
     */
    public static ParquetRows read(SparkSession spark, String path, Columns columns, int partitions, int classes) {
        org.apache.spark.sql.Dataset<Row> df;
        try {
            df = spark.read().parquet(path);
        } catch (Exception e) { // Spark throws AnalysisException (checked in Scala) for a missing path
            throw new DataException(path + ": not a Parquet table (" + firstLine(e.getMessage()) + ")");
        }
        return of(df, path, columns, partitions, classes);
    }

    /**
     * The rows of a DataFrame, into cached blocks.
     *
     * @param df the rows
     * @param name a name for messages (e.g. where they came from)
     * @param columns where the features and labels are
     * @param partitions blocks to spread the rows over
     * @param classes the classes the labels must be among; 0 to take them from the data
     * @return the rows, checked
     * @throws DataException when a column or a row is not what bp trains on
     */
    public static ParquetRows of(org.apache.spark.sql.Dataset<Row> df, String name, Columns columns, int partitions,
                                 int classes) {
        Layout layout = Layout.check(df.schema(), name, columns);
        Column[] selected = columns.all().stream().map(df::col).toArray(Column[]::new);
        // each row's partition and place in it follow from its contents (a hash), not from how the
        // input was split, which depends on the cluster: the same rows make the same blocks anywhere
        Column hash = org.apache.spark.sql.functions.xxhash64(selected);
        JavaRDD<RowBlock> blocks = df.select(selected).withColumn(HASH, hash)
                .repartition(partitions, org.apache.spark.sql.functions.col(HASH)).sortWithinPartitions(HASH)
                .drop(HASH).javaRDD()
                .mapPartitionsWithIndex((index, rows) -> List.of(layout.block(index, rows)).iterator(), true);
        blocks.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            return checked(name, layout, blocks, blocks.map(RowBlock::summary).collect(), classes);
        } catch (RuntimeException e) {
            blocks.unpersist(false);
            throw e;
        }
    }

    private static ParquetRows checked(String name, Layout layout, JavaRDD<RowBlock> blocks, List<RowBlock> summaries,
                                       int classes) {
        long size = 0;
        int width = -1;
        int maxLabel = -1;
        int targetWidth = -1;
        for (RowBlock b : summaries) {
            if (b.problem() != null) {
                throw new DataException(name + ": " + b.problem());
            }
            if (b.rows() == 0) {
                continue; // an empty partition is fine
            }
            if (width >= 0 && b.width() != width) {
                throw new DataException(name + ": " + layout.featureName() + " has " + width + " values in one "
                        + "partition and " + b.width() + " in another; every row needs the same number");
            }
            if (targetWidth >= 0 && b.targetWidth() != targetWidth) {
                throw new DataException(name + ": " + layout.targetName() + " has " + targetWidth + " values in one "
                        + "partition and " + b.targetWidth() + " in another");
            }
            size += b.rows();
            width = b.width();
            targetWidth = b.targetWidth();
            maxLabel = Math.max(maxLabel, b.maxLabel());
        }
        if (size == 0) {
            throw new DataException(name + ": no rows");
        }
        if (layout.classification()) {
            if (classes > 0 && maxLabel >= classes) {
                throw new DataException(name + ": column '" + layout.labelName() + "' has the label " + maxLabel
                        + ", outside the " + classes + " classes 0.." + (classes - 1));
            }
            if (classes == 0 && maxLabel < 1) {
                throw new DataException(name + ": column '" + layout.labelName() + "' has only the label 0: "
                        + "nothing to classify");
            }
            return new ParquetRows(name, blocks, size, width, classes > 0 ? classes : maxLabel + 1, 0,
                    shardRows(summaries));
        }
        return new ParquetRows(name, blocks, size, width, 0, targetWidth, shardRows(summaries));
    }

    private static long[] shardRows(List<RowBlock> summaries) {
        long[] rows = new long[summaries.size()];
        for (RowBlock b : summaries) {
            rows[b.partition()] = b.rows();
        }
        return rows;
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "no message";
        }
        int end = message.indexOf('\n');
        return end < 0 ? message : message.substring(0, end);
    }

    /** The columns' places in a selected row and how to read them; checked against the schema first. */
    private record Layout(String name, int featureColumns, boolean featureArray, List<String> featureNames,
                          String labelName, int targetColumns, boolean targetArray, List<String> targetNames,
                          Vectors vectors) implements Serializable {

        static Layout check(StructType schema, String name, Columns c) {
            Vectors vectors = Vectors.of(schema, c);
            boolean featureArray = checkNumeric(schema, name, c.features(), "features");
            if (c.label() != null) {
                DataType t = field(schema, name, c.label()).dataType();
                if (!(t.equals(DataTypes.IntegerType) || t.equals(DataTypes.LongType) || t.equals(DataTypes.ShortType)
                        || t.equals(DataTypes.ByteType))) {
                    throw new DataException(name + ": column '" + c.label() + "' is " + t.simpleString()
                            + ", expected an integer class label");
                }
                return new Layout(name, c.features().size(), featureArray, c.features(), c.label(), 0, false, null,
                        vectors);
            }
            boolean targetArray = checkNumeric(schema, name, c.targets(), "targets");
            return new Layout(name, c.features().size(), featureArray, c.features(), null, c.targets().size(),
                    targetArray, c.targets(), vectors);
        }

        /**
         * Whether the columns are one array or vector column (else several numeric ones); refuses
         * anything else.
         */
        private static boolean checkNumeric(StructType schema, String name, List<String> columns, String what) {
            for (String column : columns) {
                DataType t = field(schema, name, column).dataType();
                boolean array = arrayLike(t);
                if (array && columns.size() > 1) {
                    throw new DataException(name + ": column '" + column + "' is " + t.simpleString() + "; the "
                            + what + " are one array or vector column or several numeric columns, not both");
                }
                if (!array && !(t instanceof NumericType)) {
                    throw new DataException(name + ": column '" + column + "' is " + t.simpleString()
                            + ", expected a vector, an array of numbers or a number");
                }
            }
            return columns.size() == 1 && arrayLike(schema.apply(columns.get(0)).dataType());
        }

        /** {@return whether a column of type {@code t} holds a row's values: an array of numbers or a vector} */
        private static boolean arrayLike(DataType t) {
            return t instanceof ArrayType a && a.elementType() instanceof NumericType || Vectors.is(t);
        }

        private static StructField field(StructType schema, String name, String column) {
            for (StructField f : schema.fields()) {
                if (f.name().equals(column)) {
                    return f;
                }
            }
            throw new DataException(name + ": no column '" + column + "' (it has " + String.join(", ",
                    schema.fieldNames()) + ")");
        }

        boolean classification() {
            return labelName != null;
        }

        String featureName() {
            return featureArray ? "column '" + featureNames.get(0) + "'" : "the feature columns";
        }

        String targetName() {
            return targetArray ? "column '" + targetNames.get(0) + "'" : "the target columns";
        }

        /** Reads one partition's rows into a block, or a block that names its first bad row. */
        RowBlock block(int partition, Iterator<Row> rows) {
            Floats features = new Floats();
            Floats targets = classification() ? null : new Floats();
            List<Integer> labels = new ArrayList<>();
            int width = -1;
            int targetWidth = -1;
            int maxLabel = -1;
            int r = 0;
            for (; rows.hasNext(); r++) {
                Row row = rows.next();
                String where = "row " + (r + 1) + " of partition " + partition;
                int w = read(row, 0, featureColumns, featureArray, featureNames, features, where, vectors.features());
                if (w < 0) {
                    return failed(partition, features.problem);
                }
                if (width >= 0 && w != width) {
                    return failed(partition, featureName() + " has " + w + " values in " + where
                            + ", the partition's first row " + width);
                }
                width = w;
                if (classification()) {
                    int k = featureColumns;
                    if (row.isNullAt(k)) {
                        return failed(partition, "column '" + labelName + "' is empty in " + where);
                    }
                    long label = ((Number) row.get(k)).longValue();
                    if (label < 0 || label > Integer.MAX_VALUE - 1) {
                        return failed(partition, "column '" + labelName + "' has the label " + label + " in " + where
                                + ": labels are classes 0, 1, 2, …");
                    }
                    labels.add((int) label);
                    maxLabel = Math.max(maxLabel, (int) label);
                } else {
                    int t = read(row, featureColumns, targetColumns, targetArray, targetNames, targets, where,
                            vectors.targets());
                    if (t < 0) {
                        return failed(partition, targets.problem);
                    }
                    if (targetWidth >= 0 && t != targetWidth) {
                        return failed(partition, targetName() + " has " + t + " values in " + where
                                + ", the partition's first row " + targetWidth);
                    }
                    targetWidth = t;
                }
            }
            return new RowBlock(partition, r, Math.max(width, 0), features.toArray(),
                    classification() ? labels.stream().mapToInt(Integer::intValue).toArray() : null, maxLabel,
                    classification() ? null : targets.toArray(), classification() ? 0 : Math.max(targetWidth, 0), null);
        }

        private static RowBlock failed(int partition, String problem) {
            return new RowBlock(partition, 0, 0, null, null, -1, null, 0, problem);
        }

        /**
         * Appends the values of columns {@code [first, first + count)} of a row; their number, or
         * −1 with {@code into.problem} set when one is missing or not finite.
         */
        private static int read(Row row, int first, int count, boolean array, List<String> names, Floats into,
                                String where, org.apache.spark.sql.types.UserDefinedType<Object> vector) {
            if (!array) {
                for (int c = 0; c < count; c++) {
                    if (!into.add(row.isNullAt(first + c) ? null : (Number) row.get(first + c), names.get(c), where)) {
                        return -1;
                    }
                }
                return count;
            }
            if (row.isNullAt(first)) {
                into.problem = "column '" + names.get(0) + "' is empty in " + where;
                return -1;
            }
            if (vector != null) {
                return Vectors.read(vector, row.get(first), into, names.get(0), where);
            }
            List<Object> values = row.getList(first);
            for (Object v : values) {
                if (!into.add((Number) v, names.get(0), where)) {
                    return -1;
                }
            }
            return values.size();
        }
    }

    /**
     * Spark ML's vector columns (VectorAssembler's output), read through their SQL form, so that
     * bp-spark needs no Spark ML: a struct of the kind (0 sparse, 1 dense), the size, the indices
     * and the values.
     *
     * @param features the feature column's type when it is a vector, else null
     * @param targets the target column's type when it is a vector, else null
     */
    record Vectors(org.apache.spark.sql.types.UserDefinedType<Object> features,
                   org.apache.spark.sql.types.UserDefinedType<Object> targets) implements Serializable {

        /** {@return whether {@code t} is a vector type: a user-defined type with the vectors' SQL form} */
        static boolean is(DataType t) {
            if (!(t instanceof org.apache.spark.sql.types.UserDefinedType<?> u)
                    || !(u.sqlType() instanceof StructType s) || s.fields().length != 4) {
                return false;
            }
            StructField[] f = s.fields();
            return f[0].dataType().equals(DataTypes.ByteType) && f[1].dataType().equals(DataTypes.IntegerType)
                    && f[2].dataType() instanceof ArrayType i && i.elementType().equals(DataTypes.IntegerType)
                    && f[3].dataType() instanceof ArrayType v && v.elementType().equals(DataTypes.DoubleType);
        }

        static Vectors of(StructType schema, Columns c) {
            return new Vectors(vector(schema, c.features()), c.targets() == null ? null : vector(schema, c.targets()));
        }

        @SuppressWarnings("unchecked")
        private static org.apache.spark.sql.types.UserDefinedType<Object> vector(StructType schema,
                                                                                 List<String> columns) {
            if (columns.size() != 1 || !java.util.Arrays.asList(schema.fieldNames()).contains(columns.get(0))) {
                return null;
            }
            DataType t = schema.apply(columns.get(0)).dataType();
            return is(t) ? (org.apache.spark.sql.types.UserDefinedType<Object>) t : null;
        }

        /** Appends a vector's values (a sparse one's zeros too); their number, or −1 as {@link Floats#add} says. */
        static int read(org.apache.spark.sql.types.UserDefinedType<Object> type, Object vector, Floats into,
                        String column, String where) {
            var r = (org.apache.spark.sql.catalyst.InternalRow) type.serialize(vector);
            double[] values = r.getArray(3).toDoubleArray();
            if (r.getByte(0) == 1) {
                for (double v : values) {
                    if (!into.add(v, column, where)) {
                        return -1;
                    }
                }
                return values.length;
            }
            int size = r.getInt(1);
            int[] indices = r.getArray(2).toIntArray();
            for (int i = 0, k = 0; i < size; i++) {
                boolean stored = k < indices.length && indices[k] == i;
                if (!into.add(stored ? values[k++] : 0.0, column, where)) {
                    return -1;
                }
            }
            return size;
        }
    }

    /** A growing float array that refuses missing and non-finite values. */
    private static final class Floats {
        float[] values = new float[1024];
        int size;
        String problem;

        boolean add(Number v, String column, String where) {
            if (v == null) {
                problem = "column '" + column + "' has a missing value in " + where;
                return false;
            }
            float f = v.floatValue();
            if (!Float.isFinite(f)) {
                problem = "column '" + column + "' has the value " + v + " in " + where + ": bp needs finite numbers";
                return false;
            }
            if (size == values.length) {
                values = Arrays.copyOf(values, values.length * 2);
            }
            values[size++] = f;
            return true;
        }

        float[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }

    /** {@return the cached blocks, one per partition, in partition order} */
    JavaRDD<RowBlock> blocks() {
        return blocks;
    }

    /** {@return each block's rows, in partition order} */
    long[] shardRows() {
        return shardRows.clone();
    }

    /** {@return the number of blocks} */
    int partitions() {
        return blocks.getNumPartitions();
    }

    /** {@return the classes the labels are among (0 for regression)} */
    int classes() {
        return classes;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int featureCount() {
        return width;
    }

    @Override
    public int targetWidth() {
        return classes > 0 ? classes : targetWidth;
    }

    @Override
    public boolean isClassification() {
        return classes > 0;
    }

    /** Each block evaluated on its executor; the sums added on the driver in partition order. */
    @Override
    public Evaluation evaluate(Network net) {
        JavaSparkContext spark = JavaSparkContext.fromSparkContext(blocks.context());
        Broadcast<float[]> parameters = spark.broadcast(net.parameters().clone());
        Architecture architecture = Architecture.of(net);
        String setName = name;
        int setClasses = classes;
        try {
            List<EvaluationSums> parts = blocks.map(b -> b.rows() == 0 ? null
                    : EvaluationSums.of(architecture.build(parameters.value()), b.dataset(setName, setClasses)))
                    .collect();
            EvaluationSums total = null;
            for (EvaluationSums part : parts) {
                if (part != null) {
                    total = total == null ? part : total.add(part);
                }
            }
            return total.evaluation();
        } finally {
            parameters.destroy();
        }
    }

    /** Drops the cached blocks from the executors. */
    @Override
    public void close() {
        blocks.unpersist(false);
    }
}
