package bp.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Resolves what a user names with {@code --data}: a bundled set ({@code fashion-mnist},
 * {@code digits}), a directory of MNIST-style IDX files, or a CSV file; and explicit
 * {@code --train/--test} files.
 */
public final class DataSources {

    /** Seed of the fixed 80:20 split of sets that ship without a test part. */
    private static final long SPLIT_SEED = 20_240_601L;

    /**
     * A training set and the test set it is judged on.
     *
     * @param train the rows to train on
     * @param test the rows to judge the trained model on
     */
    public record TrainTest(Dataset train, Dataset test) {
    }

    private DataSources() {
    }

    /**
     * The directory of the bundled data: the system property {@code bp.data.dir}, else the
     * environment variable {@code BP_DATA}, else {@code ./data}.
     *
     * @return the directory (it need not exist)
     */
    public static Path dataDir() {
        String dir = System.getProperty("bp.data.dir");
        if (dir == null || dir.isBlank()) {
            dir = System.getenv("BP_DATA");
        }
        return Path.of(dir == null || dir.isBlank() ? "data" : dir);
    }

    /**
     * Loads a named or located data set; see the class comment.
     *
     * @param data {@code fashion-mnist}, {@code digits}, a directory of IDX files or a CSV file
     * @return the training and test sets
     */
    public static TrainTest load(String data) {
        return load(data, Csv.Format.DEFAULT);
    }

    /**
     * As {@link #load(String)}, reading a CSV file in the given format.
     *
     * @param data {@code fashion-mnist}, {@code digits}, a directory of IDX files or a CSV file
     * @param format a CSV file's delimiter and label column
     * @return the training and test sets
     */
    public static TrainTest load(String data, Csv.Format format) {
        return load(data, format, null);
    }

    /**
     * As {@link #load(String, Csv.Format)}, a CSV file's labels among {@code classNames} when not null.
     *
     * @param data {@code fashion-mnist}, {@code digits}, a directory of IDX files or a CSV file
     * @param format a CSV file's delimiter and label column
     * @param classNames the names the labels must be among, or {@code null}
     * @return the training and test sets
     */
    public static TrainTest load(String data, Csv.Format format, java.util.List<String> classNames) {
        return switch (data) {
            case "fashion-mnist" -> idxDirectory(dataDir().resolve("fashion-mnist"));
            case "digits" -> digits();
            default -> {
                Path p = Path.of(data);
                if (Files.isDirectory(p)) {
                    yield idxDirectory(p);
                }
                if (!Files.exists(p)) {
                    throw new DataException(data + ": no such file or directory, and not a bundled data set "
                            + "(fashion-mnist, digits)");
                }
                yield split(Csv.readClassification(p, format, classNames));
            }
        };
    }

    /**
     * Regression data from CSV, the last {@code targets} columns being the targets: one file split
     * 80:20 with the fixed seed, or explicit training and test files ({@code test} non-null).
     *
     * @param train a CSV file
     * @param test a CSV file, or {@code null} to split {@code train} 80:20
     * @param targets how many of the last columns are targets
     * @return the training and test sets
     */
    public static TrainTest regression(Path train, Path test, int targets) {
        return regression(train, test, targets, Csv.Format.DEFAULT);
    }

    /**
     * As {@link #regression(Path, Path, int)}, in the given format.
     *
     * @param train a CSV file
     * @param test a CSV file, or {@code null} to split {@code train} 80:20
     * @param targets how many of the last columns are targets
     * @param format the files' delimiter
     * @return the training and test sets
     */
    public static TrainTest regression(Path train, Path test, int targets, Csv.Format format) {
        if (test == null) {
            return split(Csv.readRegression(train, targets, format));
        }
        return new TrainTest(Csv.readRegression(train, targets, format), Csv.readRegression(test, targets, format));
    }

    /**
     * The 8×8 digits (1797 samples, 64 features scaled to [0, 1], 10 classes), split 80:20 with a
     * fixed seed: {@code digits/digits.csv.gz} of the {@link #dataDir() data directory} when it is
     * there, else the copy inside bp's jar.
     *
     * @return the 1438 training and 359 test rows
     */
    public static TrainTest digits() {
        Path file = dataDir().resolve("digits").resolve("digits.csv.gz");
        if (!Files.exists(file)) {
            file = bundled("digits/digits.csv.gz");
        }
        return split(Csv.readClassification(file, -1).scaleFeatures(1f / 16f));
    }

    /** A data file packaged with bp's classes, as a path (inside the jar's file system when in a jar). */
    private static Path bundled(String name) {
        java.net.URL url = DataSources.class.getResource(name);
        if (url == null) {
            throw new DataException(name + ": not in bp's jar, nor in the data directory " + dataDir().toAbsolutePath()
                    + " (set -Dbp.data.dir or BP_DATA)");
        }
        try {
            java.net.URI uri = url.toURI();
            if (uri.getScheme().equals("jar")) {
                try {
                    java.nio.file.FileSystems.newFileSystem(uri, Map.of());
                } catch (java.nio.file.FileSystemAlreadyExistsException alreadyOpen) {
                    // opened by an earlier call: Path.of finds it
                }
            }
            return Path.of(uri);
        } catch (java.net.URISyntaxException | java.io.IOException e) {
            throw new DataException(url + ": cannot read bp's bundled " + name + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Explicit training and test files: IDX image files (with labels beside them) or CSV files.
     *
     * @param train the training file
     * @param test the test file
     * @return the two sets, with as many classes as either has
     */
    public static TrainTest files(Path train, Path test) {
        return files(train, test, Csv.Format.DEFAULT);
    }

    /**
     * As {@link #files(Path, Path)}; CSV files in the given format, the test file with the training file's class names.
     *
     * @param train the training file
     * @param test the test file
     * @param format CSV files' delimiter and label column
     * @return the two sets, with as many classes as either has
     */
    public static TrainTest files(Path train, Path test, Csv.Format format) {
        if (isCsv(train)) {
            Dataset trainSet = Csv.readClassification(train, format, null);
            Dataset testSet = trainSet.classNames() != null ? Csv.readClassification(test, format, trainSet.classNames())
                    : Csv.readClassification(test, format, null);
            int classes = Math.max(trainSet.classCount(), testSet.classCount());
            return new TrainTest(trainSet.classNames() != null ? trainSet : trainSet.withClassCount(classes),
                    trainSet.classNames() != null ? testSet : testSet.withClassCount(classes));
        }
        Path trainLabels = labelsFor(train);
        Path testLabels = labelsFor(test);
        int classes = Math.max(Idx.classCount(trainLabels), Idx.classCount(testLabels));
        return new TrainTest(Idx.read(train, trainLabels, classes), Idx.read(test, testLabels, classes));
    }

    /**
     * One labelled file: IDX images (labels beside them) or CSV, read as {@code classes} classes
     * (e.g. a model's output count).
     *
     * @param file an IDX image file or a CSV file
     * @param classes the number of classes
     * @return the set
     */
    public static Dataset file(Path file, int classes) {
        return withClasses(file(file, classes, Csv.Format.DEFAULT, null), classes);
    }

    /**
     * As {@link #file(Path, int)}, but a CSV file is read as it is, in the given format, its labels
     * among {@code classNames} when the model has names for its classes (see {@link #withClasses}).
     *
     * @param file an IDX image file or a CSV file
     * @param classes the number of classes
     * @param format a CSV file's delimiter and label column
     * @param classNames the model's class names, or {@code null}
     * @return the set
     */
    public static Dataset file(Path file, int classes, Csv.Format format, java.util.List<String> classNames) {
        if (isCsv(file)) {
            return Csv.readClassification(file, format, classNames);
        }
        return Idx.read(file, labelsFor(file), classes);
    }

    /**
     * {@code d} read as {@code classes} classes, e.g. a model's outputs; it may not have more.
     *
     * @param d a classification set
     * @param classes at least its class count
     * @return the set with that many classes
     */
    public static Dataset withClasses(Dataset d, int classes) {
        if (d.classCount() > classes) {
            throw new DataException(d.name() + ": labels go up to " + (d.classCount() - 1) + ", but there are only "
                    + classes + " classes (0.." + (classes - 1) + ")");
        }
        return d.classCount() == classes ? d : d.withClassCount(classes);
    }

    private static boolean isCsv(Path p) {
        String n = p.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return n.endsWith(".csv") || n.endsWith(".csv.gz");
    }

    /** The label file beside an image file: {@code X-images-idx3-ubyte[.gz]} → {@code X-labels-idx1-ubyte[.gz]}. */
    static Path labelsFor(Path images) {
        String name = images.getFileName().toString();
        if (!name.contains("images-idx3")) {
            throw new DataException(images + ": expected an IDX image file named like train-images-idx3-ubyte[.gz] "
                    + "(its labels are found beside it), or a .csv file");
        }
        return images.resolveSibling(name.replace("images-idx3", "labels-idx1"));
    }

    /**
     * A directory with {@code train-images-idx3-ubyte[.gz]}, {@code t10k-images-idx3-ubyte[.gz]} and their labels.
     *
     * @param dir the directory
     * @return the training and test sets
     */
    public static TrainTest idxDirectory(Path dir) {
        return files(find(dir, "train-images-idx3-ubyte"), find(dir, "t10k-images-idx3-ubyte"));
    }

    private static Path find(Path dir, String base) {
        for (String suffix : new String[] {".gz", ""}) {
            Path p = dir.resolve(base + suffix);
            if (Files.exists(p)) {
                return p;
            }
        }
        throw new DataException(dir + ": expected " + base + ".gz (or " + base + ") in this directory");
    }

    private static TrainTest split(Dataset all) {
        Dataset[] parts = all.split(0.8, new SplittableRandom(SPLIT_SEED));
        return new TrainTest(parts[0], parts[1]);
    }
}
