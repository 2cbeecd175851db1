package dev.irtj.autograd.nn;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A building block with named parameters and sub-modules, as in PyTorch: names join with dots
 * ({@code blocks.0.attn.qkv.weight}), so the state dict's keys are the checkpoint format.
 */
public abstract class Module {
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    protected final Parameter addParameter(String name, Tensor initial) {
        checkName(name);
        Parameter p = new Parameter(initial);
        parameters.put(name, p);
        return p;
    }

    protected final <M extends Module> M addModule(String name, M module) {
        checkName(name);
        children.put(name, module);
        return module;
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) throw new IllegalArgumentException("invalid member name '" + name + "'");
        if (parameters.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("'" + name + "' is already a member of " + getClass().getSimpleName());
        }
    }

    /** Every parameter of this module and its sub-modules, by dotted name, in registration order. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Parameter> out) {
        parameters.forEach((n, p) -> out.put(prefix + n, p));
        children.forEach((n, m) -> m.collect(prefix + n + ".", out));
    }

    public List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    public long parameterCount() {
        long n = 0;
        for (Parameter p : namedParameters().values()) n += p.data().numel();
        return n;
    }

    /** Training mode (dropout/drop-path active) for this module and all sub-modules. */
    public Module train(boolean on) {
        training = on;
        for (Module m : children.values()) m.train(on);
        return this;
    }

    public Module eval() {
        return train(false);
    }

    public boolean isTraining() {
        return training;
    }

    /**
     * Moves every parameter to {@code device} (a no-op for those already there) and drops
     * accumulated gradients, which would live on the old device. Returns this module.
     */
    public Module to(Device device) {
        for (Parameter p : namedParameters().values()) {
            if (!p.data().device().equals(device)) {
                p.zeroGrad();
                p.set(p.data().to(device));
            }
        }
        return this;
    }

    /** The device of the parameters (the CPU for a module without any). */
    public Device device() {
        for (Parameter p : namedParameters().values()) return p.data().device();
        return Device.CPU;
    }

    public void zeroGrad() {
        for (Parameter p : namedParameters().values()) p.zeroGrad();
    }

    /** Name → value of every parameter (the tensors themselves, not copies). */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedParameters().forEach((n, p) -> out.put(n, p.data()));
        return out;
    }

    /** System property that lets weights holding NaN or infinity load (for post-mortems of a diverged run). */
    public static final String ALLOW_NON_FINITE = "irtj.allowNonFiniteWeights";

    /**
     * Loads values by name, converting dtype to each parameter's. Every problem is collected and
     * reported at once: missing names, unexpected names (unless {@code ignoreUnexpected}
     * accepts them) and shape mismatches, with their shapes. Values that are NaN or infinite are
     * refused, naming the tensor, unless {@link #ALLOW_NON_FINITE} is set.
     */
    public void loadStateDict(Map<String, Tensor> state, String source, java.util.function.Predicate<String> ignoreUnexpected) {
        Map<String, Parameter> own = namedParameters();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : own.entrySet()) {
            Tensor t = state.get(e.getKey());
            if (t == null) {
                problems.add("missing " + e.getKey() + " " + Shape.str(e.getValue().shape()));
            } else if (!Arrays.equals(t.shape(), e.getValue().shape())) {
                problems.add("shape mismatch " + e.getKey() + ": file has " + Shape.str(t.shape()) + ", model expects " + Shape.str(e.getValue().shape()));
            }
        }
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            if (!own.containsKey(e.getKey()) && !ignoreUnexpected.test(e.getKey())) {
                problems.add("unexpected " + e.getKey() + " " + Shape.str(e.getValue().shape()));
            }
        }
        if (!problems.isEmpty()) {
            // One line: the first few problems say what kind of mismatch it is (another model
            // shape, another patch size, a classifier-only file...), the count says how bad.
            int shown = Math.min(3, problems.size());
            throw new IllegalArgumentException(source + " does not fit " + getClass().getSimpleName() + " (" + problems.size()
                    + " problem" + (problems.size() == 1 ? "" : "s") + ": " + String.join("; ", problems.subList(0, shown))
                    + (problems.size() > shown ? "; and " + (problems.size() - shown) + " more" : "")
                    + "); check that the model options match the weights");
        }
        if (!Boolean.getBoolean(ALLOW_NON_FINITE)) {
            for (Map.Entry<String, Parameter> e : own.entrySet()) {
                Tensor t = state.get(e.getKey());
                if (!t.dtype().isFloating()) continue;
                double[] v = t.toDoubleArray();
                for (int i = 0; i < v.length; i++) {
                    if (!Double.isFinite(v[i])) {
                        throw new IllegalArgumentException(source + ": tensor " + e.getKey() + " holds " + v[i] + " at element " + i
                                + " (weights must be finite; -D" + ALLOW_NON_FINITE + "=true loads them anyway)");
                    }
                }
            }
        }
        for (Map.Entry<String, Parameter> e : own.entrySet()) {
            Parameter p = e.getValue();
            DType dtype = p.data().dtype();
            p.set(state.get(e.getKey()).to(dtype).to(p.data().device()).contiguous().copy());
        }
    }

    /** Loads with every name required and none unexpected. */
    public void loadStateDict(Map<String, Tensor> state) {
        loadStateDict(state, "state dict", name -> false);
    }

    /** Writes the state dict to a safetensors file, atomically. */
    public void save(Path file, Map<String, String> metadata) throws IOException {
        SafeTensors.write(file, stateDict(), metadata);
    }

    /** Reads a safetensors file written by {@link #save} (or any file with the same names). */
    public void load(Path file) throws IOException {
        loadStateDict(SafeTensors.read(file).tensors(), file.toString(), name -> false);
    }
}
