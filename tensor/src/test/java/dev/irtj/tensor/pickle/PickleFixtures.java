package dev.irtj.tensor.pickle;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The files written by {@code scripts/make-pickle-fixtures.py} (real torch.save and pickle.dump
 * output), as paths: copied out of the class path into a temporary folder, so modules that get
 * them from this module's test jar can read them as files too.
 */
public final class PickleFixtures {
    private static Path dir;

    private PickleFixtures() {
    }

    public static synchronized Path path(String name) {
        try {
            if (dir == null) {
                dir = Files.createTempDirectory("irtj-pickle-fixtures");
                dir.toFile().deleteOnExit();
            }
            Path f = dir.resolve(name);
            if (!Files.exists(f)) {
                try (InputStream in = PickleFixtures.class.getResourceAsStream("/pickle/" + name)) {
                    if (in == null) throw new IllegalStateException("no test resource pickle/" + name);
                    Files.copy(in, f, StandardCopyOption.REPLACE_EXISTING);
                }
                f.toFile().deleteOnExit();
            }
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static byte[] bytes(String name) {
        try {
            return Files.readAllBytes(path(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
