package dev.irtj.tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes that never leave a half-written file: the content goes to a hidden temporary file in
 * the target's folder, is forced to disk, and replaces the target by an atomic rename (a plain
 * rename where the file system has no atomic one); on any failure the temporary file is removed
 * and an existing target is left untouched. Used for checkpoints, weights, reports and plots.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes the temporary file at the given path (which keeps the target's extension). */
    @FunctionalInterface
    public interface PathWriter {
        void write(Path temporary) throws IOException;
    }

    /** Writes through an open channel on the temporary file. */
    @FunctionalInterface
    public interface ChannelWriter {
        void write(FileChannel channel) throws IOException;
    }

    /** Replaces {@code target} with what {@code writer} puts in a temporary file. */
    public static void replace(Path target, PathWriter writer) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            for (int attempt = 0; tmp == null; attempt++) {
                // The target's own name last, so writers that pick a format by extension still do.
                Path candidate = dir.resolve("." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp." + abs.getFileName());
                try {
                    Files.createFile(candidate);
                    tmp = candidate;
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    if (attempt >= 10) throw e;
                }
            }
            writer.write(tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException | RuntimeException | Error e) {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (e instanceof java.nio.file.FileSystemException f) throw aboutTarget(f, abs, dir);
            throw e;
        }
        syncDirectory(dir);
    }

    /**
     * java.nio names only the temporary file: the same kind of exception (callers catch
     * NoSuchFileException and the like) naming the target, and why it could not be written.
     */
    private static java.nio.file.FileSystemException aboutTarget(java.nio.file.FileSystemException f, Path target, Path dir) {
        String reason = "cannot be written: " + (Files.isDirectory(dir) ? FileProblems.why(f) : "its folder " + dir + " does not exist or is not a folder");
        java.nio.file.FileSystemException named = f instanceof java.nio.file.NoSuchFileException ? new java.nio.file.NoSuchFileException(target.toString(), null, reason)
                : f instanceof java.nio.file.AccessDeniedException ? new java.nio.file.AccessDeniedException(target.toString(), null, reason)
                : new java.nio.file.FileSystemException(target.toString(), null, reason);
        named.initCause(f);
        return named;
    }

    /** Replaces {@code target} with what {@code writer} writes to a channel. */
    public static void write(Path target, ChannelWriter writer) throws IOException {
        replace(target, tmp -> {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writer.write(ch);
            }
        });
    }

    /** Replaces {@code target} with {@code text} in UTF-8. */
    public static void writeString(Path target, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(target, ch -> {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) ch.write(buf);
        });
    }

    /** Makes the rename durable where the platform allows syncing a directory (not on Windows). */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // Best effort: the file itself is already on disk.
        }
    }
}
