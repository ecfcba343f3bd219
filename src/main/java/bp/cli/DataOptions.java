package bp.cli;

import bp.data.DataSources;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Where training and test data come from: {@code --data} or {@code --train/--test}. */
final class DataOptions {

    @Option(names = {"--data", "-d"}, paramLabel = "NAME|DIR|FILE.csv",
            description = "fashion-mnist (default), digits, a directory of MNIST-style IDX files, or a CSV file "
                    + "(label in the last column; split 80:20).")
    String data;

    @Option(names = "--train", paramLabel = "FILE", description = "Training file: IDX images (labels beside them) or CSV.")
    Path train;

    @Option(names = "--test", paramLabel = "FILE", description = "Test file, same format as --train.")
    Path test;

    @Option(names = "--targets", paramLabel = "N",
            description = "Regression: the last N columns of the CSV files are real-valued targets (the output "
                    + "layer then defaults to identity with MSE). With N = 1, 0/1 targets, --output-activation sigmoid and "
                    + "--loss bce it is binary classification.")
    Integer targets;

    boolean regression() {
        return targets != null;
    }

    DataSources.TrainTest load(String defaultData) {
        if (targets != null) {
            checkTargets();
            if (train != null || test != null) {
                if (data != null) {
                    throw new Main.UsageError("give either --data or --train/--test, not both");
                }
                if (train == null || test == null) {
                    throw new Main.UsageError("--train and --test go together");
                }
                return DataSources.regression(train, test, targets);
            }
            if (data == null) {
                throw new Main.UsageError("--targets needs CSV data: --data FILE.csv or --train/--test");
            }
            return DataSources.regression(Path.of(data), null, targets);
        }
        if (train != null || test != null) {
            if (data != null) {
                throw new Main.UsageError("give either --data or --train/--test, not both");
            }
            if (train == null || test == null) {
                throw new Main.UsageError("--train and --test go together");
            }
            return DataSources.files(train, test);
        }
        return DataSources.load(data != null ? data : defaultData);
    }

    /** The test part only, read as {@code classes} classes: {@code --test FILE} or the test part of {@code --data}. */
    bp.data.Dataset loadTest(String defaultData, int classes) {
        if (train != null) {
            throw new Main.UsageError("--train is not used here; give --test FILE or --data");
        }
        if (targets != null) {
            checkTargets();
            if (test != null && data != null) {
                throw new Main.UsageError("give either --data or --test, not both");
            }
            if (test == null && data == null) {
                throw new Main.UsageError("--targets needs CSV data: --test FILE.csv or --data FILE.csv");
            }
            return test != null ? bp.data.Csv.readRegression(test, targets)
                    : DataSources.regression(Path.of(data), null, targets).test();
        }
        if (test != null) {
            if (data != null) {
                throw new Main.UsageError("give either --data or --test, not both");
            }
            return DataSources.file(test, classes);
        }
        bp.data.Dataset d = DataSources.load(data != null ? data : defaultData).test();
        return d.classCount() == classes || !d.isClassification() ? d : d.withClassCount(classes);
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
