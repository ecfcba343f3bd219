/** bp: feedforward neural networks trained by backpropagation. */
module bp {
    requires static jdk.incubator.vector;
    requires static info.picocli; // the command line only (bp.cli); the library runs without it
    requires com.fasterxml.jackson.jr.ob;
    requires java.desktop; // bp plot draws PNGs with Java2D
    requires java.management; // to see whether the JVM runs with the kernels' flag
    requires jdk.httpserver; // bp playground

    exports bp.nn;
    exports bp.train;
    exports bp.data;
    exports bp.io;

    opens bp.cli to info.picocli;
}
