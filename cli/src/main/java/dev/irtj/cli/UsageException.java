package dev.irtj.cli;

/** A wrong or inconsistent command-line choice; reported as a usage error (exit code 2). */
public final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
