package dev.irtj.retrieval;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * What turns images into descriptors: L2-normalized float vectors of {@link #dims()} values, to
 * be compared by dot product. The index, the search command and the service see only this; the
 * one implementation that runs a model is {@link DescriptorPipeline} (file → decode → eval
 * transform → model → pooling → L2 → optional PCA → L2).
 *
 * <p>Descriptors are comparable only between describers of equal {@link #fingerprint()}: an index
 * built with one model refuses descriptors of another.
 */
public interface ImageDescriber {
    /** Length of every descriptor. */
    int dims();

    /**
     * A short stable string that identifies everything that decides a descriptor's values: the
     * weights (a content hash), the model shape, input size, channels, pooling, crop fraction and
     * PCA. Equal fingerprints mean interchangeable descriptors.
     */
    String fingerprint();

    /** A one-line human description (model, size, pooling, dims, where the weights came from). */
    String describe();

    /**
     * A JSON object (absolute paths) that {@link DescriptorPipeline#reopen(String)} turns back into
     * an equal describer: what an index records, so that {@code irt search --index DIR} and
     * {@code irt serve} need no model options. Describers that cannot be reopened (test fakes)
     * may return {@code "{}"}.
     */
    String source();

    /** The descriptor of one decoded image ({@link #dims()} floats, L2-normalized). */
    float[] describe(BufferedImage image);

    /** The descriptor of one image file. */
    float[] describe(Path file) throws IOException;

    /**
     * Descriptors of many files, decoded on several threads and run through the model in
     * batches. {@code sink} is called once per file, in the order of {@code files}, on the
     * calling thread; a file that cannot be decoded gives a {@link Described} with a null vector
     * and the reason, and the others go on.
     */
    void describeAll(List<Path> files, Consumer<Described> sink) throws IOException;

    /**
     * The outcome for one file.
     *
     * @param file the file as given
     * @param vector the descriptor, or null when the file could not be decoded
     * @param width pixel width of the decoded image (0 when it failed)
     * @param height pixel height (0 when it failed)
     * @param error why it failed (null on success)
     */
    record Described(Path file, float[] vector, int width, int height, String error) {
        public boolean ok() {
            return vector != null;
        }
    }
}
