package dev.irtj.tensor.pickle;

/**
 * A Python global ({@code module.name}) that the allow-list admits, as the unpickler pushes it:
 * a name, never anything that runs. What calling it does is the allow-list's.
 */
public record PyGlobal(String module, String name) {
    public String qualified() {
        return module + "." + name;
    }

    @Override
    public String toString() {
        return qualified();
    }
}
