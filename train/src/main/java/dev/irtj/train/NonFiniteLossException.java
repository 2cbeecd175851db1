package dev.irtj.train;

/** Training stopped because the loss became NaN or infinite; the last good checkpoint is kept. */
public final class NonFiniteLossException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NonFiniteLossException(String message) {
        super(message);
    }
}
