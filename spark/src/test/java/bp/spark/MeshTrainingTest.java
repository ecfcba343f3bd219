package bp.spark;

import bp.data.DataSources;
import bp.nn.Activation;
import bp.nn.Network;
import bp.train.EpochStats;
import bp.train.Optimizer;
import bp.train.Trainer;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Training on the executors, one barrier stage per run whose tasks exchange their work over
 * their own connections: the all-reduce and local SGD each give the same model for 1, 2 and 3
 * executor JVMs, and after a lost executor; strangers are refused.
 */
class MeshTrainingTest {

    @TempDir
    static Path dir;

    private static Network network() {
        return Network.builder(64).dense(48, Activation.RELU).dense(10, Activation.SOFTMAX).seed(5).build();
    }

    private static Trainer trainer() {
        return Trainer.builder().epochs(3).batchSize(60).optimizer(Optimizer.adam(0.005)).seed(7).build();
    }

    private static Path digits() {
        Path out = dir.resolve("digits");
        if (!Files.exists(out.resolve("train"))) {
            StringWriter err = new StringWriter();
            assertEquals(0, SparkMain.run(new String[] {"convert", "--master", "local[1]", "--data", "digits", "--out",
                    out.toString()}, new PrintWriter(new StringWriter()), new PrintWriter(err)), err.toString());
        }
        return out;
    }

    private static SparkConf cluster(int executors) throws IOException {
        Path home = Path.of(System.getProperty("bp.spark.home"));
        if (!Files.exists(home.resolve("RELEASE"))) {
            Files.writeString(home.resolve("RELEASE"), "Spark assembled from Maven for bp's tests\n");
        }
        return SparkLaunch.conf("local-cluster[" + executors + ",1,1024]", "bp test")
                .set("spark.executor.extraClassPath", System.getProperty("bp.spark.appClasspath"));
    }

    /**
     * A model trained by the all-reduce and one by local SGD (K = 2, batches of 10, 5 epochs), on 6
     * shards, with the driver's checkpoints every 4 steps; and the notices of retried epochs.
     */
    private record Models(Network allReduce, List<EpochStats> allReduceHistory, List<String> allReduceNotices,
                          Network localSgd, List<EpochStats> localSgdHistory, List<String> localSgdNotices) {
    }

    /**
     * Trains from the digits' Parquet, by the all-reduce then by local SGD; with {@code halt}
     * ("epoch:exchange:task"), that task kills its executor JVM in both.
     */
    private static Models train(SparkConf conf, Path data, String halt) {
        SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
        try {
            spark.sparkContext().setLogLevel("OFF"); // a lost executor is expected below
            // every executor compiles the kernels as it starts (KernelWarmupPlugin), before any bp task reaches it
            assertEquals(List.of(true, true, true), new org.apache.spark.api.java.JavaSparkContext(spark.sparkContext())
                    .parallelize(List.of(1, 2, 3), 3).map(i -> bp.kernel.KernelWarmup.started()).collect());
            if (halt != null) {
                spark.sparkContext().setLocalProperty(MeshTraining.HALT_AT, halt);
            }
            String train = data.resolve("train").toString();
            String test = data.resolve("test").toString();
            List<String> allReduceNotices = new java.util.concurrent.CopyOnWriteArrayList<>();
            Network allReduce = network();
            List<EpochStats> allReduceHistory = new BpSpark(spark).places(6).allReduce().checkpointEvery(4)
                    .notices(allReduceNotices::add).fit(trainer(), allReduce, train, test);
            List<String> localSgdNotices = new java.util.concurrent.CopyOnWriteArrayList<>();
            Network localSgd = network();
            // small batches, so that each shard's model takes 24 steps an epoch, and 5 epochs
            List<EpochStats> localSgdHistory = new BpSpark(spark).places(6).syncEvery(2).checkpointEvery(4)
                    .notices(localSgdNotices::add).fit(trainer().toBuilder().batchSize(10).epochs(5).build(), localSgd,
                    train, test);
            return new Models(allReduce, allReduceHistory, allReduceNotices, localSgd, localSgdHistory,
                    localSgdNotices);
        } finally {
            spark.stop();
        }
    }

    /**
     * Six shards over 1, 2 and 3 executor JVMs (so 1, 2 and 3 tasks; two tasks send each other
     * whole vectors through shared memory, three each a chunk over TCP): the same parameters bit
     * for bit, in both modes, and models that learned
     * the digits. And with 2 executors of which one dies in the middle of epoch 2 (its JVM halts
     * before exchange 5, in both modes): the driver runs the stage again from its last checkpoint,
     * on a new executor, and the run ends with the same parameters as the others.
     */
    @Test
    void theModelDependsNeitherOnTheExecutorsNorOnLosingOne() throws IOException {
        Path data = digits();
        Models one = train(cluster(1), data, null);
        Models two = train(cluster(2), data, null);
        Models three = train(cluster(3).set(MeshTraining.SHARED_MEMORY, "false"), data, null); // all over TCP
        Models lost = train(cluster(2), data, "2:5:1");
        for (Models m : List.of(two, three, lost)) {
            assertArrayEquals(one.allReduce().parameters(), m.allReduce().parameters(), "the all-reduce");
            assertArrayEquals(one.localSgd().parameters(), m.localSgd().parameters(), "local SGD");
        }
        assertEquals(List.of(), one.allReduceNotices());
        assertEquals(List.of(), one.localSgdNotices());
        // the checkpoints after 4 steps (local SGD: 2 rounds of 2): task 0 wrote them before sending exchange 4's
        // messages, which task 1 had received before it halted (a slow machine may need more attempts after that)
        assertTrue(!lost.allReduceNotices().isEmpty() && lost.allReduceNotices().get(0).matches(
                "epoch 2: attempt 1 of 4 lost a task .*; the next starts at step 4 of the epoch"),
                lost.allReduceNotices().toString());
        assertTrue(!lost.localSgdNotices().isEmpty() && lost.localSgdNotices().get(0).matches(
                "epoch 2: attempt 1 of 4 lost a task .*; the next starts at round 4 of the epoch"),
                lost.localSgdNotices().toString());
        assertTrue(last(one.allReduceHistory()).testAccuracy() > 0.9, one.allReduceHistory().toString());
        assertTrue(last(one.localSgdHistory()).testAccuracy() > 0.9, one.localSgdHistory().toString());
    }

    private static EpochStats last(List<EpochStats> history) {
        return history.get(history.size() - 1);
    }

    /** spark-train --mode allreduce from Parquet; refused with dynamic allocation, and without --parquet. */
    @Test
    void sparkTrainRunsTheAllReduceAndRefusesWhatItCannotDo() {
        Path data = digits();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, SparkMain.run(new String[] {"spark-train", "--master", "local[2]", "--parquet", data.toString(),
                "--mode", "allreduce", "--places", "4", "--layers", "64,32,10", "--epochs", "4", "--batch", "32",
                "--optimizer", "adam", "--lr", "0.005", "--checkpoint-every", "3"}, new PrintWriter(out), new PrintWriter(err)), err.toString());
        assertTrue(out.toString().matches("(?s).*test accuracy (9\\d|100)\\.\\d\\d%.*"), out.toString());

        err = new StringWriter();
        assertEquals(2, SparkMain.run(new String[] {"spark-train", "--data", "digits", "--mode", "allreduce"},
                new PrintWriter(new StringWriter()), new PrintWriter(err)));
        assertTrue(err.toString().contains("--mode allreduce trains on --parquet rows"), err.toString());

        SparkSession spark = SparkSession.builder().config(SparkLaunch.conf("local[2]", "bp test")
                .set("spark.dynamicAllocation.enabled", "true")).getOrCreate();
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> new BpSpark(spark).allReduce()
                    .fit(trainer(), network(), data.resolve("train").toString(), null));
            assertTrue(e.getMessage().contains("spark.dynamicAllocation.enabled"), e.getMessage());
        } finally {
            spark.stop();
        }
    }

    /** A connection without the stage's secret is dropped; the tasks still find each other. */
    @Test
    void aStrangerCannotJoinTheMesh() throws Exception {
        byte[] secret = "0123456789abcdef0123456789abcdef".getBytes();
        ServerSocket[] servers = {Mesh.listen("127.0.0.1"), Mesh.listen("127.0.0.1")};
        String[] addresses = new String[2];
        for (int i = 0; i < 2; i++) {
            addresses[i] = "127.0.0.1:" + servers[i].getLocalPort();
        }
        try (Socket stranger = new Socket("127.0.0.1", servers[1].getLocalPort())) {
            stranger.getOutputStream().write(new byte[36]); // the wrong secret, claiming to be task 0
            stranger.getOutputStream().flush();
            CompletableFuture<Mesh> first = CompletableFuture.supplyAsync(
                    () -> Mesh.connect(0, addresses, servers[0], secret, 16));
            try (Mesh second = Mesh.connect(1, addresses, servers[1], secret, 16); Mesh mesh = first.get()) {
                mesh.send(1, 7, 3, 1.5, 2, new float[] {1, 2, 3}, 1, 2);
                Mesh.Message m = second.receive();
                assertEquals(7, m.tag());
                assertArrayEquals(new float[] {2, 3}, second.values(m));
                assertEquals(-1, stranger.getInputStream().read(), "the stranger's connection is closed");
            }
        }
        assertTrue(servers[0].isClosed() && servers[1].isClosed(), "nothing listens after the mesh is made");
    }

    /**
     * Two tasks on one host: messages that fit a shared slot go through {@code /dev/shm}, more of
     * them than there are slots, also both ways at once; a larger one takes the socket; the files
     * are gone as soon as both sides have mapped them, and nothing is left once the tasks have
     * finished.
     */
    @Test
    void tasksOnOneHostShareMemoryAndLargerBodiesTakeTheSocket() throws Exception {
        assumeTrue(Files.isDirectory(SharedSlots.DIR), "no /dev/shm here");
        byte[] secret = "0123456789abcdef0123456789abcdef".getBytes();
        ServerSocket[] servers = {Mesh.listen("127.0.0.1"), Mesh.listen("127.0.0.1")};
        String[] addresses = {"127.0.0.1:" + servers[0].getLocalPort(), "127.0.0.1:" + servers[1].getLocalPort()};
        CompletableFuture<Mesh> first = CompletableFuture.supplyAsync(() -> Mesh.connect(0, addresses, servers[0],
                secret, 4));
        try (Mesh b = Mesh.connect(1, addresses, servers[1], secret, 4); Mesh a = first.get()) {
            assertTrue(a.sharesMemoryWith(1) && b.sharesMemoryWith(0), "shared memory between tasks on one host");
            assertEquals(List.of(), meshFiles(), "the files are deleted once mapped");
            float[] big = new float[1000];
            big[999] = 9;
            // more messages than slots: the sender waits for the receiver to hand slots back
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 10; i++) {
                    a.send(1, i, i, 0, 0, new float[] {i, i + 1, i + 2, i + 3, i + 4}, 1, 4);
                }
                a.send(1, 10, 0, 0, 0, big, 0, big.length);
            });
            for (int i = 0; i < 10; i++) {
                Mesh.Message m = b.receive();
                assertEquals(i, m.tag());
                assertEquals(i, m.rows());
                float[] part = new float[2];
                b.copy(m, 2, part, 0, 2);
                assertArrayEquals(new float[] {i + 3, i + 4}, part, "a part of a body read where it lies");
                if (i % 3 == 0) {
                    b.release(m); // else held: taking the next one copies it out of its slot
                }
            }
            assertArrayEquals(big, b.values(b.receive()));
            sent.get();
            // two tasks sending each other more messages than slots before either receives
            CompletableFuture<Void> crossed = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 5; i++) {
                    b.send(0, i, 0, 0, 0, new float[] {i}, 0, 1);
                }
                for (int i = 0; i < 5; i++) {
                    assertArrayEquals(new float[] {-i}, b.values(b.receive()));
                }
            });
            for (int i = 0; i < 5; i++) {
                a.send(1, i, 0, 0, 0, new float[] {-i}, 0, 1);
            }
            for (int i = 0; i < 5; i++) {
                assertArrayEquals(new float[] {i}, a.values(a.receive()));
            }
            crossed.get();
            CompletableFuture<Void> aDone = CompletableFuture.runAsync(a::finish);
            b.finish();
            aDone.get();
        }
        assertEquals(List.of(), meshFiles());
    }

    /** A sender killed before its receiver mapped the file leaves it behind; the next sender on the host deletes it. */
    @Test
    void filesOfDeadSendersAreSwept() throws Exception {
        assumeTrue(Files.isDirectory(SharedSlots.DIR), "no /dev/shm here");
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path orphan = Files.createTempFile(SharedSlots.DIR, SharedSlots.PREFIX + gone.pid() + "-", "");
        Path alive = Files.createTempFile(SharedSlots.DIR, SharedSlots.PREFIX + ProcessHandle.current().pid() + "-", "");
        try {
            SharedSlots.create(2, 4).close();
            assertFalse(Files.exists(orphan), "the dead sender's file is deleted");
            assertTrue(Files.exists(alive), "a live sender's file stays");
        } finally {
            Files.deleteIfExists(orphan);
            Files.deleteIfExists(alive);
        }
    }

    private static List<Path> meshFiles() throws IOException {
        try (var files = Files.list(SharedSlots.DIR)) {
            return files.filter(f -> f.getFileName().toString().startsWith(SharedSlots.PREFIX)).toList();
        }
    }

    /**
     * The driver's rendezvous: a stranger without the secret is dropped, the tasks get every
     * address in task order, nothing listens afterwards; an epoch named before every task had come
     * reaches each as soon as all have, then the stop; task 0's checkpoints reach the driver whole,
     * the last one standing once task 0 has closed, and its epoch's end and every task's test
     * figures go to the events.
     */
    @Test
    void theRendezvousRefusesStrangersAndCarriesTheStagesMessages() throws Exception {
        byte[] secret = "0123456789abcdef0123456789abcdef".getBytes();
        java.util.concurrent.BlockingQueue<Object> events = new java.util.concurrent.LinkedBlockingQueue<>();
        try (Rendezvous meeting = Rendezvous.open("127.0.0.1", "127.0.0.1", 2, secret, events::add)) {
            int port = Integer.parseInt(meeting.address().substring(meeting.address().lastIndexOf(':') + 1));
            try (Socket stranger = new Socket("127.0.0.1", port)) {
                java.io.DataOutputStream out = new java.io.DataOutputStream(stranger.getOutputStream());
                out.write(new byte[32]); // the wrong secret, claiming to be task 1
                out.writeInt(1);
                out.writeUTF("10.0.0.1:1");
                out.flush();
                assertEquals(-1, stranger.getInputStream().read(), "the stranger's connection is closed");
            }
            meeting.command(3, 0.25); // before the tasks have come
            CompletableFuture<Rendezvous.Joined> one = CompletableFuture.supplyAsync(
                    () -> Rendezvous.join(meeting.address(), secret, 1, "127.0.0.1:2001"));
            Rendezvous.Joined zero = Rendezvous.join(meeting.address(), secret, 0, "127.0.0.1:2000");
            assertArrayEquals(new String[] {"127.0.0.1:2000", "127.0.0.1:2001"}, zero.addresses());
            assertArrayEquals(zero.addresses(), one.get().addresses());
            assertThrows(java.io.IOException.class, () -> new Socket("127.0.0.1", port).close(),
                    "nothing listens once the tasks have met");
            try (DriverLink taskZero = new DriverLink(zero.driver(), 2);
                 DriverLink taskOne = new DriverLink(one.get().driver(), 2)) {
                assertEquals(new DriverLink.Command(3, 0.25), taskZero.next());
                assertEquals(new DriverLink.Command(3, 0.25), taskOne.next());
                assertTrue(taskZero.due(2, 5) && !taskZero.due(3, 5) && !taskZero.due(4, 4));
                for (int done = 2; done <= 4; done += 2) {
                    taskZero.sendCheckpoint(new MeshTraining.EpochState(new float[] {done, 1}, 10 + done,
                            new float[][] {{3, 4}}, 7, done, 0.5 * done, done));
                }
                taskZero.sendEpochEnd(new MeshTraining.EpochState(new float[] {9}, 20, new float[0][], 7, 5, 3.5, 4));
                Network net = network();
                bp.train.EvaluationSums sums = bp.train.EvaluationSums.of(net, DataSources.load("digits").test());
                taskOne.sendEvaluation(List.of(new DriverLink.BlockSums(4, sums)));
                // from two connections: in either order
                List<Object> two = List.of(events.take(), events.take());
                MeshTraining.EpochState end = (MeshTraining.EpochState) two.stream()
                        .filter(MeshTraining.EpochState.class::isInstance).findFirst().orElseThrow();
                assertEquals(5, end.done());
                assertEquals(3.5, end.lossSum());
                assertArrayEquals(new float[] {9}, end.parameters());
                Rendezvous.Evaluated evaluated = (Rendezvous.Evaluated) two.stream()
                        .filter(Rendezvous.Evaluated.class::isInstance).findFirst().orElseThrow();
                assertEquals(1, evaluated.task());
                assertEquals(4, evaluated.blocks().get(0).partition());
                assertEquals(sums.evaluation().loss(), evaluated.blocks().get(0).sums().evaluation().loss());
                assertEquals(sums.evaluation().accuracy(), evaluated.blocks().get(0).sums().evaluation().accuracy());
                meeting.command(0, 0);
                assertEquals(null, taskZero.next(), "the run is over");
                assertEquals(null, taskOne.next(), "the run is over");
            }
            MeshTraining.EpochState last = meeting.checkpoint();
            assertEquals(4, last.done());
            assertEquals(7, last.epoch());
            assertEquals(14, last.steps());
            assertEquals(2.0, last.lossSum());
            assertArrayEquals(new float[] {4, 1}, last.parameters());
            assertArrayEquals(new float[] {3, 4}, last.buffers()[0]);
        }
    }

    /** The driver deserializes nothing but evaluation sums from a task's connection (a JEP 290 filter). */
    @Test
    void anEvaluationHoldingAnythingElseIsRefused() throws Exception {
        java.io.ByteArrayOutputStream objects = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(objects)) {
            out.writeObject(new java.util.HashMap<String, String>());
        }
        java.io.ByteArrayOutputStream message = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(message);
        out.writeInt(1);
        out.writeInt(0);
        out.writeInt(objects.size());
        objects.writeTo(out);
        assertThrows(java.io.InvalidClassException.class, () -> DriverLink.readEvaluation(
                new java.io.DataInputStream(new java.io.ByteArrayInputStream(message.toByteArray()))));
    }
}
