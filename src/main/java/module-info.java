/** bp: feedforward neural networks trained by backpropagation. */
module bp {
    requires static jdk.incubator.vector;
    requires static info.picocli; // the command line only (bp.cli); the library runs without it
    requires com.fasterxml.jackson.jr.ob;
    requires java.desktop; // bp plot draws PNGs with Java2D
    requires java.management; // to see whether the JVM runs with the kernels' flag
    requires jdk.management; // the JVM's object alignment (bp.kernel.Alignment)
    requires jdk.httpserver; // bp playground

    exports bp.nn;
    exports bp.train;
    exports bp.data;
    exports bp.io;
    // the engine for bp-spark's executors, which compute gradients with it (bp-spark runs on the class
    // path with Spark; on the module path it is the module bp.spark)
    exports bp.engine to bp.spark;

    opens bp.cli to info.picocli;
}
