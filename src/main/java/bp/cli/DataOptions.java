package bp.cli;

import bp.data.Csv;
import bp.data.DataSources;
import bp.data.Dataset;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where training and test data come from ({@code --data} or {@code --train/--test}) and how CSV
 * files are read; {@link #describe(Dataset)} is what a model file keeps of it (under the training
 * settings' {@code "data_spec"}), so that {@code eval} and {@code predict} need no repeated options.
 */
final class DataOptions {

    /** Where a model file keeps {@link #describe(Dataset)}, in its training settings. */
    static final String SPEC_KEY = "data_spec";

    @Option(names = {"--data", "-d"}, paramLabel = "NAME|DIR|FILE.csv",
            description = "fashion-mnist (default), digits, a directory of MNIST-style IDX files, or a CSV file "
                    + "(label in the last column unless --label-column; split 80:20).")
    String data;

    @Option(names = "--train", paramLabel = "FILE", description = "Training file: IDX images (labels beside them) or CSV.")
    Path train;

    @Option(names = "--test", paramLabel = "FILE", description = "Test file, same format as --train.")
    Path test;

    @Option(names = "--targets", paramLabel = "N",
            description = "Regression: the last N columns of the CSV files are real-valued targets (the output "
                    + "layer then defaults to identity with MSE). With N = 1, 0/1 targets, --output-activation "
                    + "sigmoid and --loss bce it is binary classification.")
    Integer targets;

    @picocli.CommandLine.Mixin
    CsvOptions csv = new CsvOptions();

    boolean regression() {
        return targets != null;
    }

    /** How to read CSV files, from the options or else from a model's data description. */
    Csv.Format format(Map<String, Object> model) {
        return csv.format(model);
    }

    DataSources.TrainTest load(String defaultData) {
        Csv.Format format = format(Map.of());
        if (targets != null) {
            checkTargets();
            if (csv.labelColumn != null) {
                throw new Main.UsageError("--label-column is for class labels; with --targets N the targets are the "
                        + "last N columns");
            }
            if (train != null || test != null) {
                checkTrainTest();
                return DataSources.regression(train, test, targets, format);
            }
            if (data == null) {
                throw new Main.UsageError("--targets needs CSV data: --data FILE.csv or --train/--test");
            }
            return DataSources.regression(Path.of(data), null, targets, format);
        }
        if (train != null || test != null) {
            checkTrainTest();
            return DataSources.files(train, test, format);
        }
        return DataSources.load(data != null ? data : defaultData, format);
    }

    private void checkTrainTest() {
        if (data != null) {
            throw new Main.UsageError("give either --data or --train/--test, not both");
        }
        if (train == null || test == null) {
            throw new Main.UsageError("--train and --test go together");
        }
    }

    /**
     * The test part only, for {@code net} with the data description {@code model} (empty for models
     * saved before bp kept one): {@code --test FILE} or the test part of {@code --data}, read as the
     * model was trained unless the options say otherwise. A width that does not fit the model fails
     * with both numbers.
     */
    Dataset loadTest(String defaultData, bp.nn.Network net, Map<String, Object> model) {
        if (train != null) {
            throw new Main.UsageError("--train is not used here; give --test FILE or --data");
        }
        if (test != null && data != null) {
            throw new Main.UsageError("give either --data or --test, not both");
        }
        Csv.Format format = format(model);
        Integer targetCount = targets != null ? targets : model.get("targets") instanceof Number n ? n.intValue() : null;
        List<String> names = classNames(model);
        Dataset d;
        if (targetCount != null) {
            if (targetCount < 1) {
                throw new Main.UsageError("--targets must be at least 1, not " + targetCount);
            }
            if (test == null && data == null) {
                throw new Main.UsageError("the model predicts " + targetCount + " real-valued target"
                        + (targetCount == 1 ? "" : "s") + ": give CSV data, --test FILE.csv or --data FILE.csv");
            }
            d = test != null ? Csv.readRegression(test, targetCount, format)
                    : DataSources.regression(Path.of(data), null, targetCount, format).test();
        } else {
            d = test != null ? DataSources.file(test, net.outputs(), format, names)
                    : DataSources.load(data != null ? data : defaultData, format, names).test();
        }
        if (d.featureCount() != net.inputs()) {
            throw new bp.data.DataException(d.name() + ": the model takes " + net.inputs() + " inputs, the data has "
                    + d.featureCount() + " features");
        }
        if (targetCount == null && names != null && !names.equals(d.classNames())) {
            throw new bp.data.DataException(d.name() + ": the model's classes are " + names
                    + ", the data has class indices");
        }
        return d.isClassification() ? DataSources.withClasses(d, net.outputs()) : d;
    }

    /** The class names in a model's data description, or {@code null}. */
    static List<String> classNames(Map<String, Object> model) {
        return model.get("classes") instanceof List<?> list ? list.stream().map(String::valueOf).toList() : null;
    }

    /** What a model keeps of its training data: inputs, classes (names or count) or targets, and CSV reading options. */
    Map<String, Object> describe(Dataset trainSet) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("inputs", trainSet.featureCount());
        if (!trainSet.isClassification()) {
            d.put("targets", trainSet.targetWidth());
        } else {
            d.put("classes", trainSet.classNames() != null ? trainSet.classNames() : trainSet.classCount());
        }
        csv.describe(d);
        return d;
    }

    private void checkTargets() {
        if (targets < 1) {
            throw new Main.UsageError("--targets must be at least 1, not " + targets);
        }
    }

    String describe(String defaultData) {
        return train != null ? train + " / " + test : data != null ? data : defaultData;
    }
}
