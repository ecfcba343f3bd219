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

    DataSources.TrainTest load(String defaultData) {
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
        if (test != null) {
            if (data != null) {
                throw new Main.UsageError("give either --data or --test, not both");
            }
            return DataSources.file(test, classes);
        }
        bp.data.Dataset d = DataSources.load(data != null ? data : defaultData).test();
        return d.classCount() == classes || !d.isClassification() ? d : d.withClassCount(classes);
    }

    String describe(String defaultData) {
        return train != null ? train + " / " + test : data != null ? data : defaultData;
    }
}
