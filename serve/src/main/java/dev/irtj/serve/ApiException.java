package dev.irtj.serve;

/** A request the service refuses: its HTTP status and the one line the client is shown. */
final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;

    ApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    static ApiException badRequest(String message) {
        return new ApiException(400, message);
    }

    static ApiException notFound(String message) {
        return new ApiException(404, message);
    }

    static ApiException tooLarge(String message) {
        return new ApiException(413, message);
    }
}
