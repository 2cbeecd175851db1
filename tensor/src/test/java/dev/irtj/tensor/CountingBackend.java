package dev.irtj.tensor;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The reference backend behind a proxy that counts, by method name, the calls a backend is
 * handed: tests install it for the CPU and show that a refused input never reaches a backend.
 */
final class CountingBackend {
    private final ReferenceBackend ref = new ReferenceBackend();
    private final Map<String, Integer> calls = new HashMap<>();
    /** The last argument list of each method. */
    private final Map<String, Object[]> lastArgs = new HashMap<>();
    private final Backend proxy = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
            (self, method, args) -> {
                String key = method.getName() + "/" + (args == null ? 0 : args.length);
                calls.merge(key, 1, Integer::sum);
                lastArgs.put(key, args);
                try {
                    return method.invoke(ref, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            });

    /** Calls of {@code method} with {@code arity} arguments so far. */
    int calls(String method, int arity) {
        return calls.getOrDefault(method + "/" + arity, 0);
    }

    Object[] lastArgs(String method, int arity) {
        return lastArgs.get(method + "/" + arity);
    }

    /** Runs body with this as the CPU backend, putting the previous one back after. */
    <T> T around(Supplier<T> body) {
        Backend previous = Backends.use(proxy);
        try {
            return body.get();
        } finally {
            Backends.use(previous);
        }
    }
}
