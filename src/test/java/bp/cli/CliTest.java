package bp.cli;

import bp.io.ModelFile;
import bp.nn.Network;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line end to end, in process: outputs, exit statuses, one-line errors, untouched files. */
class CliTest {

    @TempDir
    static Path dir;
    static Path model;
    static String trainOutput;

    record Run(int status, String out, String err) {
        List<String> errLines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    static Run bp(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(status, out.toString(), err.toString());
    }

    @BeforeAll
    static void trainDigits() {
        model = dir.resolve("digits.safetensors");
        Run r = bp("train", "--data", "digits", "--layers", "64,64,10", "--epochs", "8", "--batch", "32", "--lr", "0.01",
                "--save", model.toString());
        assertEquals(0, r.status(), r.err());
        trainOutput = r.out();
    }

    @Test
    void earlyStoppingReportsTheKeptEpoch() {
        Run r = bp("train", "--data", "digits", "--layers", "64,32,10", "--epochs", "40", "--batch", "16",
                "--lr", "0.01", "--val-split", "0.2", "--patience", "2");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("val loss"), r.out());
        assertTrue(r.out().matches("(?s).*(early stop after epoch \\d+|no early stop in 40 epochs); kept epoch \\d+ .*"),
                r.out());
        assertTrue(r.out().contains("(1150 train, 288 validation, 359 test"), r.out());
    }

    @Test
    void layersMayNameTheirActivations() {
        Run r = bp("train", "--data", "digits", "--layers", "64,32:tanh,16:sigmoid,10", "--epochs", "1", "--quiet");
        assertEquals(0, r.status(), r.err());
        Run bad = bp("train", "--data", "digits", "--layers", "64,32:swish,10", "--epochs", "1");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("--layers 64,32:swish,10: unknown activation 'swish'"), bad.err());
        Run param = bp("train", "--data", "digits", "--layers", "64,32:elu:0.5,10", "--activation", "leaky_relu:0.2",
                "--epochs", "1");
        assertEquals(0, param.status(), param.err());
        assertTrue(param.out().contains("64-32:elu:0.5-10:softmax"), param.out());
        Run noParam = bp("train", "--data", "digits", "--activation", "relu:0.2", "--epochs", "1");
        assertEquals(2, noParam.status());
        assertTrue(noParam.err().contains("takes no parameter"), noParam.err());
        Run input = bp("train", "--data", "digits", "--layers", "64:relu,10", "--epochs", "1");
        assertEquals(2, input.status());
        assertTrue(input.err().contains("the input layer has no activation"), input.err());
    }

    @Test
    void layerActivationsReachTheModel() throws IOException {
        Path file = dir.resolve("mixed.safetensors");
        Run r = bp("train", "--data", "digits", "--layers", "64,32:tanh,16,10:softmax", "--activation", "relu",
                "--epochs", "1", "--quiet", "--save", file.toString());
        assertEquals(0, r.status(), r.err());
        Run info = bp("info", "--model", file.toString());
        assertTrue(info.out().contains("64-32:tanh-16:relu-10:softmax"), info.out());
    }

    /** Rows x1, x2, y of y = 3·x1 − 2·x2 + 0.5 + small noise, and of a 0/1 label x1 + x2 > 0. */
    static Path writeCsv(String name, boolean binary) throws IOException {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(8);
        StringBuilder sb = new StringBuilder("x1,x2,y\n");
        for (int i = 0; i < 400; i++) {
            double a = rng.nextDouble(-1, 1);
            double b = rng.nextDouble(-1, 1);
            double y = binary ? (a + b > 0 ? 1 : 0) : 3 * a - 2 * b + 0.5 + rng.nextDouble(-0.05, 0.05);
            sb.append(String.format(java.util.Locale.ROOT, "%.6f,%.6f,%.6f%n", a, b, y));
        }
        Path file = dir.resolve(name);
        Files.writeString(file, sb);
        return file;
    }

    @Test
    void regressionFromCsvTargets() throws IOException {
        Path csv = writeCsv("plane.csv", false);
        Path file = dir.resolve("plane.safetensors");
        Run r = bp("train", "--data", csv.toString(), "--targets", "1", "--layers", "2,1", "--optimizer", "sgd",
                "--lr", "0.1", "--epochs", "60", "--batch", "8", "--save", file.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("2-1:identity, loss mse"), r.out());
        Run e = bp("eval", "--model", file.toString(), "--data", csv.toString(), "--targets", "1");
        assertEquals(0, e.status(), e.err());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("R² ([0-9.]+)").matcher(e.out());
        assertTrue(m.find(), e.out());
        assertTrue(Double.parseDouble(m.group(1)) > 0.99, e.out());
    }

    @Test
    void binaryClassificationWithOneSigmoidOutput() throws IOException {
        Path csv = writeCsv("halfplane.csv", true);
        Path file = dir.resolve("halfplane.safetensors");
        Run r = bp("train", "--data", csv.toString(), "--targets", "1", "--layers", "2,8,1", "--activation", "tanh",
                "--output", "sigmoid", "--loss", "bce", "--lr", "0.01", "--epochs", "60", "--batch", "8",
                "--save", file.toString());
        assertEquals(0, r.status(), r.err());
        Run e = bp("eval", "--model", file.toString(), "--data", csv.toString(), "--targets", "1");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("accuracy ([0-9.]+)%").matcher(e.out());
        assertTrue(m.find(), e.out());
        assertTrue(Double.parseDouble(m.group(1)) > 95, e.out());
        assertTrue(e.out().contains("precision"), e.out());
    }

    @Test
    void biasInitialisation() throws IOException {
        Path file = dir.resolve("biases.safetensors");
        Run r = bp("train", "--data", "digits", "--layers", "64,16,10", "--epochs", "1", "--quiet", "--lr", "1e-9",
                "--optimizer", "sgd", "--bias-init", "constant:0.5", "--save", file.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals(0.5f, bp.io.ModelFile.load(file).bias(0, 3), 1e-6f);
        Run bad = bp("train", "--data", "digits", "--bias-init", "ones");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("--bias-init 'ones'"), bad.err());
    }

    @Test
    void metricsAreAppendedAsJsonLines() throws IOException {
        Path log = dir.resolve("metrics.jsonl");
        for (int run = 0; run < 2; run++) {
            Run r = bp("train", "--data", "digits", "--layers", "64,16,10", "--epochs", "3", "--quiet",
                    "--metrics", log.toString());
            assertEquals(0, r.status(), r.err());
        }
        List<String> lines = Files.readAllLines(log);
        assertEquals(6, lines.size(), lines.toString());
        for (int i = 0; i < 6; i++) {
            Map<String, Object> m = com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(lines.get(i));
            assertEquals(i % 3 + 1, ((Number) m.get("epoch")).intValue(), lines.get(i));
            double accuracy = ((Number) m.get("test_accuracy")).doubleValue();
            assertTrue(accuracy > 0 && accuracy <= 1, lines.get(i));
            assertEquals(null, m.get("val_loss"), lines.get(i));
        }
        Run missing = bp("train", "--data", "digits", "--metrics", dir.resolve("no/such/dir/m.jsonl").toString());
        assertEquals(2, missing.status());
        assertTrue(missing.err().contains("does not exist"), missing.err());
    }

    @Test
    void plotDrawsTheLearningCurves() throws IOException {
        Path log = dir.resolve("curves.jsonl");
        Run r = bp("train", "--data", "digits", "--layers", "64,16,10", "--epochs", "6", "--quiet", "--val-split", "0.2",
                "--metrics", log.toString());
        assertEquals(0, r.status(), r.err());
        Path png = dir.resolve("curves.png");
        Run p = bp("plot", log.toString(), "--out", png.toString());
        assertEquals(0, p.status(), p.err());
        assertTrue(p.out().contains("6 epochs"), p.out());
        java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(png.toFile());
        assertEquals(1000, image.getWidth());
        assertEquals(420, image.getHeight());
        int train = 0;
        int validation = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y) & 0xffffff;
                train += rgb == 0x1f77b4 ? 1 : 0;
                validation += rgb == 0xff7f0e ? 1 : 0;
            }
        }
        assertTrue(train > 200 && validation > 200, "curves drawn: " + train + " / " + validation + " pixels");
    }

    @Test
    void plotRejectsAMalformedFileAndWritesNothing() throws IOException {
        Path log = dir.resolve("bad.jsonl");
        Files.writeString(log, "{\"epoch\": 1, \"train_loss\": 0.5}\nnot json\n");
        Path png = dir.resolve("bad.png");
        Run p = bp("plot", log.toString(), "--out", png.toString());
        assertEquals(1, p.status());
        assertTrue(p.err().contains("line 2 is not a JSON object"), p.err());
        assertFalse(Files.exists(png));
    }

    @Test
    void patienceWithoutValidationIsAUsageError() {
        Run r = bp("train", "--data", "digits", "--patience", "2");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--val-split"), r.err());
    }

    @Test
    void trainPrintsEpochsAccuracyAndSaves() {
        assertTrue(trainOutput.contains("epoch 8/8"), trainOutput);
        assertTrue(trainOutput.matches("(?s).*test accuracy (9\\d\\.\\d\\d)% .*"), trainOutput);
        assertTrue(Files.exists(model));
    }

    @Test
    void evalReproducesTheTrainingRunsTestAccuracy() {
        String trained = trainOutput.replaceAll("(?s).*test accuracy (\\d+\\.\\d\\d)%.*", "$1");
        Run r = bp("eval", "--model", model.toString(), "--data", "digits");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("accuracy " + trained + "%"), r.out() + " vs " + trained);
        assertTrue(r.out().contains("confusion matrix"), r.out());
    }

    @Test
    void predictWritesTheNetworksOutputsExactly() throws IOException {
        Path input = dir.resolve("rows.csv");
        Files.writeString(input, "0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,"
                + "0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0\n" + "1,".repeat(63) + "1\n");
        Path output = dir.resolve("pred.csv");
        Run r = bp("predict", "--model", model.toString(), "--input", input.toString(), "--output", output.toString());
        assertEquals(0, r.status(), r.err());
        List<String> lines = Files.readAllLines(output);
        assertEquals("class,p0,p1,p2,p3,p4,p5,p6,p7,p8,p9", lines.get(0));
        assertEquals(3, lines.size());
        Network net = ModelFile.load(model);
        float[] x = bp.data.Csv.readFeatures(input, 64);
        float[] y = net.predict(x, 2);
        String[] cells = lines.get(1).split(",");
        for (int j = 0; j < 10; j++) {
            assertEquals(Float.floatToIntBits(y[j]), Float.floatToIntBits(Float.parseFloat(cells[1 + j])));
        }
        assertEquals(net.classify(java.util.Arrays.copyOf(x, 64)), Integer.parseInt(cells[0]));
    }

    @Test
    void infoDescribesMachineAndModel() {
        Run r = bp("info");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("kernels") && r.out().contains("cores"), r.out());
        Run m = bp("info", "--model", model.toString());
        assertTrue(m.out().contains("64-64:relu-10:softmax, loss ce, 4810 parameters"), m.out());
        assertTrue(m.out().contains("learning_rate"), m.out());
    }

    @Test
    void gradcheckPasses() {
        Run r = bp("gradcheck", "--layers", "3,5,4,2", "--activation", "sigmoid", "--output", "sigmoid", "--loss", "sse");
        assertEquals(0, r.status(), r.out() + r.err());
        assertTrue(r.out().contains("gradients OK"));
        Run learned = bp("gradcheck", "--layers", "4,6:prelu:-0.2,5:maxout:3,3");
        assertEquals(0, learned.status(), learned.out() + learned.err());
        assertTrue(learned.out().contains("4-6:prelu:-0.2-5:maxout:3-3:softmax, loss ce, 159 parameters"), learned.out());
        Run big = bp("gradcheck", "--layers", "100,50:maxout:8,10");
        assertEquals(2, big.status());
        assertTrue(big.err().contains("40910 parameters"), big.err());
    }

    @Test
    void playgroundRejectsABadPort() {
        Run r = bp("playground", "--port", "70000");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--port 70000: expected 0..65535"), r.err());
    }

    /** PReLU and maxout from the command line, into a model file that eval and info read. */
    @Test
    void learnedActivationsTrainSaveAndLoad() {
        Path file = dir.resolve("learned.safetensors");
        Run r = bp("train", "--data", "digits", "--layers", "64,48:prelu,32:maxout:3,10", "--epochs", "3", "--batch", "32",
                "--lr", "0.01", "--save", file.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("64-48:prelu-32:maxout:3-10:softmax"), r.out());
        Run e = bp("eval", "--model", file.toString(), "--data", "digits");
        assertEquals(0, e.status(), e.err());
        Run i = bp("info", "--model", file.toString());
        assertTrue(i.out().contains("weight [48, 64], bias [48], slope [48]"), i.out());
        assertTrue(i.out().contains("weight [96, 48], bias [96]"), i.out());
    }

    @Test
    void everyCommandHasHelpWithAnExample() {
        for (String cmd : new String[] {"train", "eval", "predict", "export", "import", "info", "gradcheck", "playground"}) {
            Run r = bp(cmd, "--help");
            assertEquals(0, r.status());
            assertTrue(r.out().contains("Example"), cmd + " help lacks an example");
            // picocli wraps descriptions but not examples: an example wider than the help breaks mid-command
            String examples = r.out().substring(r.out().indexOf("Example"));
            examples.lines().skip(1).filter(l -> !l.isBlank()).forEach(l ->
                    assertTrue(l.startsWith("  "), cmd + " help: an example wraps onto '" + l + "'"));
        }
    }

    @Test
    void exportThenImportGivesBackTheModelFile() throws IOException {
        Path onnx = dir.resolve("digits.onnx");
        Path back = dir.resolve("digits-back.safetensors");
        Run export = bp("export", "--model", model.toString(), "--onnx", onnx.toString());
        assertEquals(0, export.status(), export.err());
        assertTrue(export.out().contains("wrote " + onnx + " (64-64:relu-10:softmax, loss ce"), export.out());
        Run imported = bp("import", "--onnx", onnx.toString(), "--out", back.toString());
        assertEquals(0, imported.status(), imported.err());
        assertArrayEquals(Files.readAllBytes(model), Files.readAllBytes(back));
    }

    @Test
    void aRefusedImportWritesNothing() throws IOException {
        Path bad = dir.resolve("bad.onnx");
        Files.write(bad, new byte[] {0x08, 0x08, 0x3a, (byte) 0xff, 0x7f});
        Path out = dir.resolve("kept.safetensors");
        Files.writeString(out, "keep");
        assertFailure(bp("import", "--onnx", bad.toString(), "--out", out.toString()),
                "bad.onnx: not a valid ONNX file: byte 3 (in model): a length of");
        assertEquals("keep", Files.readString(out));
        assertUsageError(bp("import", "--onnx", bad.toString(), "--out", dir.resolve("no/such/dir.safetensors").toString()),
                "does not exist");
        assertUsageError(bp("import", "--onnx", bad.toString(), "--out", out.toString(), "--loss", "hinge"),
                "unknown loss 'hinge'");
    }

    @Test
    void trainingContinuesFromASavedModel() throws IOException {
        Path continued = dir.resolve("continued.safetensors");
        Run r = bp("train", "--data", "digits", "--init-from", model.toString(), "--epochs", "1", "--lr", "0.001",
                "--save", continued.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("bp: 64-64:relu-10:softmax, loss ce"), r.out());
        // the model was trained for 8 epochs: its first epoch in the new run is already accurate
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("epoch 1/1 .* test loss [0-9.]+ acc ([0-9.]+)%")
                .matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Double.parseDouble(m.group(1)) > 90, r.out());
        assertTrue(String.valueOf(ModelFile.trainingSettings(continued).get("init")).startsWith("from "),
                ModelFile.trainingSettings(continued).toString());
        assertUsageError(bp("train", "--data", "digits", "--init-from", model.toString(), "--layers", "64,10"),
                "--init-from " + model + " gives the architecture and the weights; leave out --layers");
        assertUsageError(bp("train", "--data", writeCsv("plane2.csv", false).toString(), "--targets", "1",
                        "--init-from", model.toString()),
                "the model takes 64 inputs and gives 10 outputs, but plane2.csv");
        assertUsageError(bp("train", "--data", "digits", "--init-from", model.toString(), "--loss", "bce"),
                "--loss bce with --init-from");
    }

    @Test
    void oneSpellingForOutputsWithTheOldNamesStillAccepted() throws IOException {
        Path net = dir.resolve("named.safetensors");
        Run r = bp("train", "--data", "digits", "--layers", "64-16:tanh-10", "--output-activation", "softmax",
                "--epochs", "1", "--quiet", "-o", net.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("64-16:tanh-10:softmax, loss ce, 1210 parameters", ModelFile.load(net).describe());
        Path rows = dir.resolve("named-rows.csv");
        Files.writeString(rows, "0".repeat(1).concat(",0".repeat(63)) + "\n");
        for (String spelling : new String[] {"-o", "--out", "--output"}) {
            Path csv = dir.resolve("named" + spelling.replace("-", "") + ".csv");
            Run p = bp("predict", "--model", net.toString(), "--input", rows.toString(), spelling, csv.toString());
            assertEquals(0, p.status(), p.err());
            assertTrue(Files.readString(csv).startsWith("class,p0,"), spelling);
        }
        for (String spelling : new String[] {"--out", "--onnx"}) {
            Run e = bp("export", "--model", net.toString(), spelling, dir.resolve("named.onnx").toString());
            assertEquals(0, e.status(), e.err());
        }
        Run old = bp("train", "--data", "digits", "--layers", "64,8,10", "--output", "softmax", "--epochs", "1",
                "--quiet", "--save", dir.resolve("old-names.safetensors").toString());
        assertEquals(0, old.status(), old.err());
        assertTrue(Files.exists(dir.resolve("old-names.safetensors")));
        String help = bp("train", "--help").out();
        assertTrue(help.contains("-o, --out=FILE") && help.contains("--output-activation=NAME"), help);
        assertFalse(help.contains("--save") || help.contains("--output="), help);
        assertFalse(help.matches("(?s).*=<\\w+>.*"), "a placeholder that is not a word: " + help);
        String unwrapped = help.replaceAll("\\s+", " ");
        for (bp.nn.Activation a : bp.nn.Activation.values()) { // the list comes from the enum
            assertTrue(unwrapped.contains(" " + a.label()), a.label() + " missing from: " + help);
        }
        assertTrue(unwrapped.contains("maxout[:k] (max of k linear pieces per unit, default 2)"), help);
        Run prelu = bp("train", "--data", "digits", "--layers", "64-8:prelu:-0.1-10", "--epochs", "1", "--quiet");
        assertEquals(0, prelu.status(), prelu.err());
    }

    @Test
    void everyCommandPrintsTheVersion() {
        for (String cmd : new String[] {"train", "eval", "predict", "export", "import", "info", "bench", "plot"}) {
            Run r = bp(cmd, "-V");
            assertEquals(0, r.status(), cmd + ": " + r.err());
            assertTrue(r.out().startsWith("bp "), cmd + " -V printed '" + r.out() + "'");
        }
    }

    @Test
    void benchTrainRejectsBadEpochCountsBeforeLoadingAnything() {
        assertUsageError(bp("bench", "train", "--epochs", "0"), "--epochs must be at least 1, got 0");
        assertUsageError(bp("bench", "train", "--warmup", "-1"), "--warmup must be 0 or more, got -1");
    }

    /** The default warm-up: whole epochs until 3000 steps have run (the JIT's compiles of the trainer), at least one. */
    @Test
    void benchTrainWarmsUpForThreeThousandSteps() {
        assertEquals(7, BenchCommand.warmupEpochs(60000, 128)); // 469 steps an epoch: 3283
        assertEquals(2, BenchCommand.warmupEpochs(60000, 32)); // 1875: 3750
        assertEquals(1, BenchCommand.warmupEpochs(6000, 1)); // 6000
        assertEquals(1, BenchCommand.warmupEpochs(3000, 1)); // exactly 3000
        assertEquals(2, BenchCommand.warmupEpochs(2999, 1));
        assertEquals(3000, BenchCommand.warmupEpochs(10, 128)); // one step an epoch
    }

    @Test
    void aMissingOutputDirectoryIsAUsageErrorEverywhere() {
        String missing = dir.resolve("no/such/dir/f").toString();
        assertUsageError(bp("train", "--data", "digits", "--epochs", "1", "-o", missing), "does not exist");
        assertUsageError(bp("predict", "--model", model.toString(), "--input", model.toString(), "--out", missing),
                "does not exist");
        assertUsageError(bp("export", "--model", model.toString(), "--out", missing), "does not exist");
        assertUsageError(bp("import", "--onnx", model.toString(), "--out", missing), "does not exist");
    }

    /** Three species in semicolon-separated columns, the label first and named in the header. */
    static Path speciesCsv(String name) throws IOException {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(5);
        StringBuilder sb = new StringBuilder("species;length;width\n");
        String[] species = {"setosa", "versicolor", "virginica"};
        for (int i = 0; i < 300; i++) {
            int s = i % 3;
            sb.append(String.format(java.util.Locale.ROOT, "%s;%.4f;%.4f%n", species[s],
                    2 * s + rng.nextDouble(-0.6, 0.6), (s == 1 ? 1 : -1) + rng.nextDouble(-0.6, 0.6)));
        }
        Path file = dir.resolve(name);
        Files.writeString(file, sb);
        return file;
    }

    @Test
    void realCsvFilesAndAModelThatKnowsItsData() throws IOException {
        Path csv = speciesCsv("species.csv");
        Path net = dir.resolve("species.safetensors");
        Run r = bp("train", "--data", csv.toString(), "--label-column", "species", "--layers", "2,16:tanh,3",
                "--epochs", "40", "--batch", "16", "--lr", "0.01", "--quiet", "-o", net.toString());
        assertEquals(0, r.status(), r.err());
        // eval and predict need no repeated options: the model file knows the format and the class names
        Run e = bp("eval", "--model", net.toString(), "--test", csv.toString());
        assertEquals(0, e.status(), e.err());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("accuracy ([0-9.]+)%").matcher(e.out());
        assertTrue(m.find() && Double.parseDouble(m.group(1)) > 95, e.out());
        assertTrue(e.out().contains("virginica"), e.out());
        Run p = bp("predict", "--model", net.toString(), "--input", csv.toString());
        assertEquals(0, p.status(), p.err());
        List<String> lines = p.out().lines().toList();
        assertEquals("class,p_setosa,p_versicolor,p_virginica", lines.get(0));
        assertEquals(301, lines.size());
        assertTrue(lines.get(1).startsWith("setosa,"), lines.get(1));
        assertTrue(p.err().matches("(?s)bp: accuracy [0-9.]+% \\(\\d+ of 300 rows of species.csv\\)\\s*"), p.err());
        // the features alone, tab-separated
        Path features = dir.resolve("species-features.tsv.csv");
        Files.writeString(features, "0.1\t-1\n4.2\t-0.9\n");
        Run f = bp("predict", "--model", net.toString(), "--input", features.toString(), "--delimiter", "tab");
        assertEquals(0, f.status(), f.err());
        assertTrue(f.out().lines().skip(1).toList().get(1).startsWith("virginica,"), f.out());
        assertFailure(bp("eval", "--model", net.toString(), "--data", "digits"),
                "the model takes 2 inputs, the data has 64 features");
    }

    @Test
    void normalizationMakesNaturalScalesTrainLikeUnitOnes() throws IOException {
        Path unit = speciesCsv("species-unit.csv");
        // the same rows with the features on scales 1e-3 and 1e4 apart (a length in km, a count in ten-thousands)
        List<String> lines = Files.readAllLines(unit);
        StringBuilder sb = new StringBuilder(lines.get(0)).append('\n');
        for (String line : lines.subList(1, lines.size())) {
            String[] c = line.split(";");
            sb.append(c[0]).append(';').append(Double.parseDouble(c[1]) * 1e-3).append(';')
                    .append(Double.parseDouble(c[2]) * 1e4).append('\n');
        }
        Path natural = dir.resolve("species-natural.csv");
        Files.writeString(natural, sb);
        String[] common = {"--label-column", "species", "--layers", "2,16:tanh,3", "--epochs", "40", "--batch", "16",
                "--lr", "0.01", "--quiet"};
        double unitAccuracy = testAccuracy(bp(concat(new String[] {"train", "--data", unit.toString()}, common)));
        Path net = dir.resolve("natural.safetensors");
        double scaled = testAccuracy(bp(concat(new String[] {"train", "--data", natural.toString(), "--normalize",
                "standard", "-o", net.toString()}, common)));
        assertTrue(scaled > 95 && scaled >= unitAccuracy - 2, scaled + "% normalized vs " + unitAccuracy + "% on unit scales");
        // eval and predict take the natural scales: the model applies its scaling
        Run e = bp("eval", "--model", net.toString(), "--test", natural.toString());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("accuracy ([0-9.]+)%").matcher(e.out());
        assertTrue(m.find() && Double.parseDouble(m.group(1)) > 95, e.out() + e.err());
        Run p = bp("predict", "--model", net.toString(), "--input", natural.toString());
        m = java.util.regex.Pattern.compile("accuracy ([0-9.]+)%").matcher(p.err());
        assertTrue(m.find() && Double.parseDouble(m.group(1)) > 95, p.err());
        assertUsageError(bp("train", "--data", natural.toString(), "--label-column", "species", "--normalize", "robust"),
                "--normalize robust: input scaling 'robust': expected standard or minmax");
    }

    static double testAccuracy(Run r) {
        assertEquals(0, r.status(), r.err());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("test accuracy ([0-9.]+)%").matcher(r.out());
        assertTrue(m.find(), r.out());
        return Double.parseDouble(m.group(1));
    }

    static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void regressionAndBinaryModelsNeedNoRepeatedOptions() throws IOException {
        Path plane = writeCsv("plane3.csv", false);
        Path reg = dir.resolve("plane3.safetensors");
        assertEquals(0, bp("train", "--data", plane.toString(), "--targets", "1", "--layers", "2,1", "--optimizer", "sgd",
                "--lr", "0.1", "--epochs", "30", "--batch", "8", "--quiet", "-o", reg.toString()).status());
        Run e = bp("eval", "--model", reg.toString(), "--data", plane.toString());
        assertEquals(0, e.status(), e.err());
        assertTrue(e.out().contains("R²"), e.out());
        Run p = bp("predict", "--model", reg.toString(), "--input", plane.toString());
        assertEquals(0, p.status(), p.err());
        assertTrue(p.out().startsWith("y0\n"), p.out());
        assertTrue(p.err().startsWith("bp: MSE "), p.err());
        Path half = writeCsv("half3.csv", true);
        Path bin = dir.resolve("half3.safetensors");
        assertEquals(0, bp("train", "--data", half.toString(), "--targets", "1", "--layers", "2,8,1:sigmoid", "--loss",
                "bce", "--lr", "0.01", "--epochs", "30", "--batch", "8", "--quiet", "-o", bin.toString()).status());
        Run b = bp("predict", "--model", bin.toString(), "--input", half.toString());
        assertEquals(0, b.status(), b.err());
        List<String> rows = b.out().lines().toList();
        assertEquals("class,p1", rows.get(0));
        String[] first = rows.get(1).split(",");
        assertEquals(Float.parseFloat(first[1]) >= 0.5f ? "1" : "0", first[0]);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("accuracy ([0-9.]+)%").matcher(b.err());
        assertTrue(m.find() && Double.parseDouble(m.group(1)) > 90, b.err());
    }

    // ---- bad input: one line on stderr, the right status, no output written --------------------------

    static void assertUsageError(Run r, String fragment) {
        assertEquals(2, r.status(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains(fragment), r.err());
    }

    static void assertFailure(Run r, String fragment) {
        assertEquals(1, r.status(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains(fragment), r.err());
    }

    @Test
    void badHyperparametersAreUsageErrors() {
        Path out = dir.resolve("never.safetensors");
        assertUsageError(bp("train", "--data", "digits", "--lr", "-1", "--save", out.toString()),
                "learning rate must be a positive number");
        assertUsageError(bp("train", "--data", "digits", "--batch", "0"), "batch size must be at least 1");
        assertUsageError(bp("train", "--data", "digits", "--epochs", "0"), "epochs must be at least 1");
        assertUsageError(bp("train", "--data", "digits", "--activation", "swish"), "unknown activation 'swish'");
        assertUsageError(bp("train", "--data", "digits", "--loss", "ce", "--output", "sigmoid"), "needs a softmax output");
        assertUsageError(bp("train", "--data", "digits", "--layers", "60,10"), "the input width must be 64");
        assertUsageError(bp("train", "--data", "digits", "--epochs", "many"), "Invalid value for option '--epochs'");
        assertUsageError(bp("train", "--bogus"), "Unknown option: '--bogus'");
        assertFalse(Files.exists(out));
    }

    @Test
    void saveIntoMissingDirectoryFailsBeforeTraining() {
        Path out = dir.resolve("missing/dir/m.safetensors");
        assertUsageError(bp("train", "--data", "digits", "--save", out.toString()), "does not exist");
        assertFalse(Files.exists(out));
    }

    @Test
    void badDataFilesFailWithTheirName() throws IOException {
        Path csv = dir.resolve("ragged.csv");
        Files.writeString(csv, "1,2,0\n3,1\n");
        assertFailure(bp("train", "--data", csv.toString()), "ragged.csv: line 2: expected 3 columns");
        Path empty = dir.resolve("empty-images-idx3-ubyte");
        Files.write(empty, new byte[0]);
        Files.write(dir.resolve("empty-labels-idx1-ubyte"), new byte[0]);
        assertFailure(bp("train", "--train", empty.toString(), "--test", empty.toString()), "empty file");
        assertFailure(bp("train", "--data", dir.resolve("nothing-here").toString()), "no such file or directory");
    }

    @Test
    void corruptModelFailsAndPredictLeavesOutputAlone() throws IOException {
        Path bad = dir.resolve("bad.safetensors");
        Files.write(bad, new byte[] {1, 2, 3});
        assertFailure(bp("eval", "--model", bad.toString(), "--data", "digits"), "bad.safetensors: 3 bytes, too short");
        Path output = dir.resolve("keep.csv");
        Files.writeString(output, "precious\n");
        Path input = dir.resolve("wide.csv");
        Files.writeString(input, "1,2,3\n");
        assertFailure(bp("predict", "--model", model.toString(), "--input", input.toString(), "--output",
                output.toString()), "wide.csv: the model takes 64 inputs, the file has 3 columns (expected 64, or 65 with the label)");
        assertArrayEquals("precious\n".getBytes(), Files.readAllBytes(output));
    }

    /** Writes an IDX pair: {@code count} 2×2 images and {@code labels} labels, with the given image magic. */
    static Path idxPair(String prefix, int magic, int count, int labels) throws IOException {
        java.nio.ByteBuffer images = java.nio.ByteBuffer.allocate(16 + (count <= 1000 ? 4 * count : 0));
        images.putInt(magic).putInt(count).putInt(2).putInt(2);
        java.nio.ByteBuffer labelBytes = java.nio.ByteBuffer.allocate(8 + labels).putInt(0x801).putInt(labels);
        Path img = dir.resolve(prefix + "-images-idx3-ubyte");
        Files.write(img, images.array());
        Files.write(dir.resolve(prefix + "-labels-idx1-ubyte"), labelBytes.array());
        return img;
    }

    /**
     * DESIGN.md's bad inputs fed to the CLI: each gives exit status 1 and one line naming the file and
     * what was wrong, and the model that --save names keeps its old bytes.
     */
    @Test
    void everyBadInputFailsCleanlyAndLeavesOutputsAlone() throws IOException {
        Path keep = dir.resolve("keep.safetensors");
        Files.copy(model, keep, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        byte[] before = Files.readAllBytes(keep);
        Map<String, String[]> cases = new java.util.LinkedHashMap<>();
        Path gz = dir.resolve("truncated.csv.gz");
        java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(zipped)) {
            z.write("1,2,0\n3,4,1\n5,6,0\n7,8,1\n".repeat(50).getBytes());
        }
        byte[] full = zipped.toByteArray();
        Files.write(gz, java.util.Arrays.copyOf(full, full.length / 2));
        cases.put("truncated gzip", new String[] {"--data", gz.toString(), "truncated.csv.gz: truncated or corrupt gzip"});
        Path magic = idxPair("magic", 0x0000080A, 2, 2);
        cases.put("wrong IDX magic", new String[] {"--train", magic.toString(), "--test", magic.toString(), "magic-images-idx3-ubyte"});
        Path huge = idxPair("huge", 0x803, Integer.MAX_VALUE, 2);
        cases.put("2^31 items", new String[] {"--train", huge.toString(), "--test", huge.toString(), "huge-images-idx3-ubyte"});
        Path mismatch = idxPair("mismatch", 0x803, 3, 2);
        cases.put("labels ≠ images", new String[] {"--train", mismatch.toString(), "--test", mismatch.toString(), "mismatch"});
        Path text = dir.resolve("text.csv");
        Files.writeString(text, "1,2,0\n3,abc,1\n");
        cases.put("non-numeric cell", new String[] {"--data", text.toString(), "text.csv: line 2, column 2: 'abc' is not a number"});
        Path nan = dir.resolve("nan.csv");
        Files.writeString(nan, "1,2,0\nNaN,4,1\n");
        cases.put("NaN", new String[] {"--data", nan.toString(), "nan.csv: line 2, column 1"});
        Path inf = dir.resolve("inf.csv");
        Files.writeString(inf, "1,2,0\n3,1e999,1\n");
        cases.put("Inf", new String[] {"--data", inf.toString(), "inf.csv: line 2, column 2"});
        Path emptyCsv = dir.resolve("empty.csv");
        Files.writeString(emptyCsv, "");
        cases.put("empty CSV", new String[] {"--data", emptyCsv.toString(), "empty.csv: empty file"});
        for (Map.Entry<String, String[]> c : cases.entrySet()) {
            String[] a = c.getValue();
            List<String> args = new java.util.ArrayList<>(List.of("train", "--epochs", "1", "--save", keep.toString()));
            args.addAll(List.of(a).subList(0, a.length - 1));
            Run r = bp(args.toArray(new String[0]));
            assertEquals(1, r.status(), c.getKey() + ": " + r.err());
            assertEquals(1, r.errLines().size(), c.getKey() + ": " + r.err());
            assertTrue(r.err().contains(a[a.length - 1]), c.getKey() + ": " + r.err());
            assertArrayEquals(before, Files.readAllBytes(keep), c.getKey() + " changed the saved model");
        }
        // damaged model files, through eval
        byte[] good = Files.readAllBytes(model);
        byte[] corrupt = good.clone();
        corrupt[10] = '#';
        byte[] longHeader = good.clone();
        java.nio.ByteBuffer.wrap(longHeader).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, good.length + 100L);
        byte[] wrongShape = new String(good, java.nio.charset.StandardCharsets.ISO_8859_1) // same length: 4 → 5
                .replaceFirst("\"shape\":\\[64,64\\]", "\"shape\":[64,65]").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        Map<String, byte[]> models = Map.of("corrupted header", corrupt, "header longer than the file", longHeader,
                "tensor shape ≠ spec", wrongShape);
        for (Map.Entry<String, byte[]> m : models.entrySet()) {
            Path f = dir.resolve("damaged.safetensors");
            Files.write(f, m.getValue());
            Run r = bp("eval", "--model", f.toString(), "--data", "digits");
            assertEquals(1, r.status(), m.getKey() + ": " + r.err());
            assertEquals(1, r.errLines().size(), m.getKey() + ": " + r.err());
            assertTrue(r.err().contains("damaged.safetensors"), m.getKey() + ": " + r.err());
        }
    }

    @Test
    void verboseAddsTheStackTrace() {
        Run r = bp("eval", "--verbose", "--model", dir.resolve("absent.safetensors").toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("no such file") && r.err().contains("at bp."), r.err());
    }
}
