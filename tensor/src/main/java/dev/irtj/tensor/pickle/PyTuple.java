package dev.irtj.tensor.pickle;

import java.util.List;

/**
 * A Python tuple: immutable, so (unlike a list) it may be a dict key. {@code depth} is how many
 * tuples deep it nests (1 for a tuple of scalars); the unpickler limits it, so hashing and
 * comparing a key never recurses without bound.
 */
public record PyTuple(List<Object> items, int depth) {
    public PyTuple {
        items = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(items));
    }

    public static PyTuple of(List<Object> items) {
        int d = 0;
        for (Object o : items) if (o instanceof PyTuple t) d = Math.max(d, t.depth);
        return new PyTuple(items, d + 1);
    }

    public int size() {
        return items.size();
    }

    public Object get(int i) {
        return items.get(i);
    }

    @Override
    public String toString() {
        return "tuple of " + items.size();
    }
}
