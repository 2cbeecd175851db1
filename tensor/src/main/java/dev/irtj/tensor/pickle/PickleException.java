package dev.irtj.tensor.pickle;

import java.io.IOException;

/**
 * A pickle (or a PyTorch archive) that irtj refuses: malformed, truncated, too deep, too large,
 * or naming a global outside the allow-list. The message is one line naming the source.
 */
public final class PickleException extends IOException {
    private static final long serialVersionUID = 1L;

    public PickleException(String source, String detail) {
        super(source + ": " + oneLine(detail));
    }

    /** {@code s} with control characters escaped and cut to 200 characters, for names read from a file. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 200; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || Character.isSurrogate(c)) {
                b.append(String.format("\\x%02x", (int) c & 0xff));
            } else {
                b.append(c);
            }
        }
        return s.length() > 200 ? b + "..." : b.toString();
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }
}
