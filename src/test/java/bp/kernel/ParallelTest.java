package bp.kernel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The workers that share a training step's phases: every index exactly once, failures reported, no lost wake-up. */
class ParallelTest {

    /** Many short runs back to back (as a step's phases are), on more threads than cores, each index exactly once. */
    @Test
    @Timeout(60)
    void everyIndexRunsExactlyOnceInEveryRun() {
        for (int threads = 1; threads <= 4; threads++) {
            try (Parallel parallel = new Parallel(threads)) {
                AtomicIntegerArray hits = new AtomicIntegerArray(64);
                int[] n = {0};
                Parallel.Job job = parallel.job(i -> hits.incrementAndGet(i));
                for (int run = 0; run < 2000; run++) {
                    n[0] = run % 64;
                    parallel.run(job, n[0]);
                }
                for (int i = 0; i < 64; i++) {
                    int expected = 0;
                    for (int run = 0; run < 2000; run++) {
                        expected += i < run % 64 ? 1 : 0;
                    }
                    assertEquals(expected, hits.get(i), "index " + i + " with " + threads + " threads");
                }
            }
        }
    }

    /**
     * Each thread of a pool has its own number, the same in every task it runs: 0 for the thread
     * that calls {@code run} (and any thread that is not one of the pool's workers, a worker of
     * another pool included), 1 … threads − 1 for the workers.
     */
    @Test
    @Timeout(60)
    void eachThreadOfAPoolHasItsOwnNumber() {
        try (Parallel parallel = new Parallel(3); Parallel other = new Parallel(2)) {
            assertEquals(0, parallel.threadIndex());
            java.util.Map<Thread, Integer> seen = new java.util.concurrent.ConcurrentHashMap<>();
            java.util.Set<String> clashes = java.util.concurrent.ConcurrentHashMap.newKeySet();
            Parallel.Job job = parallel.job(i -> {
                int index = parallel.threadIndex();
                if (other.threadIndex() != 0) {
                    clashes.add(Thread.currentThread() + " has a number in the other pool");
                }
                Integer before = seen.putIfAbsent(Thread.currentThread(), index);
                if (index < 0 || index >= 3 || before != null && before != index) {
                    clashes.add(Thread.currentThread() + " was " + before + ", now " + index);
                }
            });
            Parallel.Job otherJob = other.job(i -> {
                if (parallel.threadIndex() != 0) {
                    clashes.add(Thread.currentThread() + " of the other pool has a number in this one");
                }
            });
            for (int run = 0; run < 500; run++) {
                parallel.run(job, 16);
                other.run(otherJob, 8);
            }
            assertEquals(java.util.Set.of(), clashes);
            assertEquals(0, seen.getOrDefault(Thread.currentThread(), 0));
            assertEquals(seen.size(), new java.util.HashSet<>(seen.values()).size(), "two threads with one number: " + seen);
        }
    }

    /**
     * Runs whose tasks have owners: each index still runs exactly once in every run, whether the
     * owners share the tasks out, give them all to one thread (the others take them over) or name
     * no thread at all, and the sizes of the runs grow (the claims grow with them).
     */
    @Test
    @Timeout(60)
    void ownedTasksRunExactlyOnceInEveryRun() {
        for (int threads = 1; threads <= 4; threads++) {
            for (int rule = 0; rule < 3; rule++) {
                int t = threads;
                int r = rule;
                try (Parallel parallel = new Parallel(threads)) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(64);
                    Parallel.Job job = parallel.job(hits::incrementAndGet, i -> switch (r) {
                        case 0 -> i % t;
                        case 1 -> t - 1;
                        default -> t; // no such thread
                    });
                    for (int run = 0; run < 1000; run++) {
                        parallel.run(job, 1 + run % 64);
                    }
                    for (int i = 0; i < 64; i++) {
                        int runs = 0;
                        for (int run = 0; run < 1000; run++) {
                            runs += i < 1 + run % 64 ? 1 : 0;
                        }
                        assertEquals(runs, hits.get(i), "index " + i + ", " + threads + " threads, owner rule " + rule);
                    }
                }
            }
        }
    }

    /** The first run may start before the workers' threads do (a lost wake-up here once hung the tests). */
    @Test
    @Timeout(60)
    void aRunRightAfterConstructionFinishes() {
        for (int i = 0; i < 200; i++) {
            try (Parallel parallel = new Parallel(2)) {
                AtomicIntegerArray hits = new AtomicIntegerArray(2);
                parallel.forEach(2, hits::incrementAndGet);
                assertEquals(1, hits.get(0));
                assertEquals(1, hits.get(1));
            }
        }
    }

    /**
     * A run waits only for the workers that joined it: with the worker held back before it joins
     * (as when it is off its core), the caller runs every task itself and returns; the worker,
     * released, finds the run closed and runs none of its tasks; later runs share the tasks again.
     */
    @Test
    @Timeout(60)
    void aRunDoesNotWaitForAWorkerThatHasNotJoined() throws InterruptedException {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        Runnable holdFirstRun = () -> {
            if (first.getAndSet(false)) {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (Parallel parallel = new Parallel(2, holdFirstRun)) {
            AtomicIntegerArray hits = new AtomicIntegerArray(8);
            AtomicIntegerArray byWorker = new AtomicIntegerArray(8);
            Parallel.Job job = parallel.job(i -> {
                hits.incrementAndGet(i);
                if (parallel.threadIndex() != 0) {
                    byWorker.incrementAndGet(i);
                }
            }, i -> i % 2);
            parallel.run(job, 8); // the worker's tasks are the odd ones; it is held before it joins
            held.await();
            for (int i = 0; i < 8; i++) {
                assertEquals(1, hits.get(i), "index " + i);
                assertEquals(0, byWorker.get(i), "index " + i + " ran on the held worker");
            }
            release.countDown();
            for (int run = 0; run < 200; run++) {
                parallel.run(job, 8);
            }
            for (int i = 0; i < 8; i++) {
                assertEquals(201, hits.get(i), "index " + i);
            }
            // the caller's first task finishes only when the worker has run task 1: it joins again
            java.util.concurrent.CountDownLatch oneDone = new java.util.concurrent.CountDownLatch(1);
            parallel.run(parallel.job(i -> {
                if (i == 0) {
                    try {
                        oneDone.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                } else {
                    oneDone.countDown();
                }
            }, i -> i), 2);
            assertEquals(0, oneDone.getCount());
        }
    }

    /** Workers that have parked (after their spin) wake for the next run. */
    @Test
    @Timeout(60)
    void parkedWorkersWakeUp() throws InterruptedException {
        try (Parallel parallel = new Parallel(3)) {
            for (int round = 0; round < 5; round++) {
                Thread.sleep(5); // far longer than the spin: the workers park
                AtomicIntegerArray hits = new AtomicIntegerArray(8);
                parallel.forEach(8, hits::incrementAndGet);
                for (int i = 0; i < 8; i++) {
                    assertEquals(1, hits.get(i));
                }
            }
        }
    }

    /** A task's exception reaches the caller as thrown, and the workers go on serving runs. */
    @Test
    @Timeout(60)
    void aFailingTaskThrowsInTheCaller() {
        try (Parallel parallel = new Parallel(2)) {
            IllegalStateException boom = new IllegalStateException("boom");
            for (int round = 0; round < 20; round++) {
                int bad = round % 4;
                IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> parallel.forEach(4, i -> {
                    if (i == bad) {
                        throw boom;
                    }
                }));
                assertSame(boom, thrown);
            }
            AtomicIntegerArray hits = new AtomicIntegerArray(4);
            parallel.forEach(4, hits::incrementAndGet);
            assertEquals(4, hits.get(0) + hits.get(1) + hits.get(2) + hits.get(3));
        }
    }
}
