package dev.irtj.cli;

import dev.irtj.index.IndexInfo;
import dev.irtj.index.VectorIndex;
import dev.irtj.retrieval.DescriptorPipeline;
import dev.irtj.retrieval.ImageDescriber;
import dev.irtj.serve.SearchService;
import dev.irtj.serve.ServeOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code irt serve}: the search service and its web page over an index, until Ctrl-C. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve an index over HTTP: POST /search (an image, a vector or an indexed id), GET /images/{id} and "
                + "GET /images/{id}/thumbnail, GET /health, GET /stats, and a web page at /. Runs until Ctrl-C.",
                "The model is the one the index recorded; model options replace it (it must make the same descriptors)."})
public final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** Where the index is, as irt index and irt search take it. */
    @Mixin
    IndexOptions indexOptions;

    @Option(names = "--host", defaultValue = ServeOptions.DEFAULT_HOST,
            description = "Address to listen on; 0.0.0.0 exposes the service to the network (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "" + ServeOptions.DEFAULT_PORT, description = "TCP port; 0 takes any free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--max-upload-bytes", defaultValue = "" + ServeOptions.DEFAULT_MAX_UPLOAD_BYTES,
            description = "Largest accepted upload or JSON body, in bytes; larger ones get 413 (default: ${DEFAULT-VALUE}).")
    long maxUploadBytes;

    @Option(names = "--max-pixels", defaultValue = "" + ServeOptions.DEFAULT_MAX_PIXELS,
            description = "Largest accepted width × height of an uploaded image, read from its header before decoding; larger ones get 413 (default: ${DEFAULT-VALUE}).")
    long maxPixels;

    @Option(names = "--max-k", defaultValue = "" + ServeOptions.DEFAULT_MAX_K, description = "Most results one search may ask for (default: ${DEFAULT-VALUE}).")
    int maxK;

    @Option(names = "--describe-concurrency", defaultValue = "1",
            description = "Uploads described at once (each is a model forward pass that already uses every core or the GPU); others wait (default: ${DEFAULT-VALUE}).")
    int describeConcurrency;

    @Option(names = "--image-root",
            description = "Folder that relative image paths in the index are resolved against (default: the current directory).")
    Path imageRoot;

    @Mixin
    ModelSourceOptions model;

    @Override
    public Integer call() throws Exception {
        ServeOptions options = serveOptions();
        // The shared model options include batching for many files; the service describes one
        // upload at a time, so these two would be accepted and do nothing.
        for (String unused : new String[] {"--batch", "--workers"}) {
            if (spec.commandLine().getParseResult().hasMatchedOption(unused)) {
                throw new UsageException(unused + " does not apply to irt serve: it describes one uploaded image per search");
            }
        }
        Path folder = indexOptions.folder();
        if (!Files.isDirectory(folder)) throw new UsageException("--index " + folder + " is not a folder; build one with irt index");
        // Javalin and Jetty log through SLF4J (slf4j-simple, to stderr): warnings and errors only,
        // unless the user asked for more with -Dorg.slf4j.simpleLogger.defaultLogLevel.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        PrintWriter out = spec.commandLine().getOut();
        // Read-only: irt index may be adding images from another process meanwhile, and each
        // search sees its latest commit.
        VectorIndex vectors = indexOptions.openForReading();
        SearchService service;
        ImageDescriber describer;
        try {
            describer = model.given() ? model.open() : recordedDescriber(vectors);
            try {
                service = new SearchService(vectors, describer, options);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
            service.start();
        } catch (Exception e) {
            vectors.close();
            throw e;
        }
        IndexInfo info = vectors.info();
        out.printf("irt serve: %d images, %s%n", info.count(), describer.describe());
        out.printf("irt serve: listening on %s (Ctrl-C stops)%n", service.url());
        out.flush();
        awaitShutdown(service, vectors);
        return 0;
    }

    /** The service's options from the flags; a bad value is a usage error naming the flag. */
    ServeOptions serveOptions() {
        try {
            return ServeOptions.defaults().withHost(host).withPort(port).withMaxUploadBytes(maxUploadBytes).withMaxPixels(maxPixels)
                    .withMaxK(maxK).withDescribeConcurrency(describeConcurrency).withDescribeWait(Duration.ofSeconds(60))
                    .withImageRoot(imageRoot == null ? Path.of("").toAbsolutePath() : imageRoot.toAbsolutePath());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** The describer the index recorded, so that serving needs no model options. */
    private ImageDescriber recordedDescriber(VectorIndex vectors) throws IOException {
        String source = vectors.describerSource();
        if (source == null || source.isBlank() || source.equals("{}")) {
            throw new UsageException("the index in " + indexOptions.folder() + " records no model to reopen; give the one it was built with (--checkpoint RUN or --weights FILE)");
        }
        return DescriptorPipeline.reopen(source);
    }

    /**
     * Blocks until Ctrl-C (any JVM shutdown) or an interrupt of this thread (how a test, or a
     * program embedding the command, stops it), then stops the service (requests in flight
     * finish first) and only then closes the index. Either way the closing happens once.
     */
    private void awaitShutdown(SearchService service, VectorIndex vectors) throws InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        CountDownLatch closed = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable close = () -> {
            if (!closing.compareAndSet(false, true)) return;
            try {
                service.stop();
                vectors.close();
            } catch (IOException | RuntimeException e) {
                err.println("irt serve: closing the index failed: " + e.getMessage());
            } finally {
                err.println("irt serve: stopped");
                err.flush();
                closed.countDown();
            }
        };
        Thread hook = new Thread(close, "irt-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            closed.await();
        } catch (InterruptedException e) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is already running; close() below then finds the work done.
            }
            close.run();
            closed.await();
        }
    }
}
