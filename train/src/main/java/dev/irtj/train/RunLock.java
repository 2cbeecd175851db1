package dev.irtj.train;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One writer per run folder: an exclusive OS lock on {@code RUN/.lock}, which holds the
 * holder's pid and host so that a second writer can say who has it. The OS releases the lock
 * when the process dies (kill -9 included), so a stale lock file never blocks a resume.
 * Acquiring it also removes temporary files that a killed writer left ({@code .*.tmp.*}, the
 * names {@code AtomicFiles} gives them).
 */
public final class RunLock implements AutoCloseable {
    public static final String FILE = ".lock";

    private final FileChannel channel;
    private final FileLock lock;
    private final Path runDir;
    /** Whether this lock made the folder: a run that then writes nothing leaves no empty folder behind. */
    private final boolean created;

    private RunLock(FileChannel channel, FileLock lock, Path runDir, boolean created) {
        this.channel = channel;
        this.lock = lock;
        this.runDir = runDir;
        this.created = created;
    }

    /** Takes the lock of {@code runDir} (creating the folder), or fails at once naming the holder. */
    public static RunLock acquire(Path runDir) throws IOException {
        if (Files.exists(runDir) && !Files.isDirectory(runDir)) {
            throw new IOException("cannot use run folder " + runDir + ": it is a file");
        }
        boolean created = !Files.exists(runDir);
        try {
            Files.createDirectories(runDir);
        } catch (IOException e) {
            throw new IOException("cannot create run folder " + runDir + ": " + dev.irtj.tensor.FileProblems.why(e), e);
        }
        Path f = runDir.resolve(FILE);
        FileChannel ch;
        try {
            ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new IOException("cannot write in run folder " + runDir + ": " + dev.irtj.tensor.FileProblems.why(e), e);
        }
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this very process
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            String holder = holder(ch);
            ch.close();
            throw new IOException(runDir + " is in use by another training run (" + holder + "); wait for it to finish or choose another --out");
        }
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(self().getBytes(StandardCharsets.UTF_8)), 0);
        ch.force(false);
        removeStaleTemporaries(runDir);
        return new RunLock(ch, lock, runDir, created);
    }

    private static String holder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(256);
            int n = ch.read(b, 0);
            String s = n <= 0 ? "" : new String(b.array(), 0, n, StandardCharsets.UTF_8).strip();
            return s.isEmpty() ? "holder unknown" : s;
        } catch (IOException e) {
            return "holder unknown";
        }
    }

    /** "pid 123 on host" of this process. */
    static String self() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown host";
        }
        return "pid " + ProcessHandle.current().pid() + " on " + host;
    }

    private static void removeStaleTemporaries(Path runDir) throws IOException {
        try (DirectoryStream<Path> tmp = Files.newDirectoryStream(runDir, ".*.tmp.*")) {
            for (Path p : tmp) Files.deleteIfExists(p);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            if (created && holdsOnlyTheLock()) {
                // Deleted while still held, so no other writer can take a lock file about to vanish.
                Files.deleteIfExists(runDir.resolve(FILE));
                Files.deleteIfExists(runDir);
            }
        } catch (IOException ignored) {
            // A folder that cannot be tidied is left as it is: the lock file in it is harmless.
        } finally {
            try {
                lock.release();
            } finally {
                channel.close();
            }
        }
    }

    private boolean holdsOnlyTheLock() throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(runDir)) {
            for (Path p : entries) {
                if (!p.getFileName().toString().equals(FILE)) return false;
            }
        }
        return true;
    }
}
