package dev.irtj.tensor;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A stand-in GPU for tests on machines without one: {@code cuda:0} computed by the
 * {@link ReferenceBackend} on host arrays, with storage that says it is on the device, so data
 * crosses only where real code would cross to a GPU ({@link Tensor#to(Device)}, {@code item},
 * {@code toFloatArray}...). It counts those crossings (calls and elements, per direction), which
 * is how tests show what a step uploads and downloads without a GPU.
 */
public final class EmulatedDevice {
    public static final Device DEVICE = Device.cuda(0);

    private final ReferenceBackend ref = new ReferenceBackend();
    private long uploads, uploadedElements, largestUpload, downloads, downloadedElements;
    private final List<Integer> uploadSizes = new ArrayList<>();
    private final Backend proxy = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
            (self, method, args) -> call(method, args));

    /** Host transfers counted so far. */
    public record Transfers(long uploads, long uploadedElements, long largestUpload, long downloads, long downloadedElements) {
        public Transfers minus(Transfers before) {
            return new Transfers(uploads - before.uploads, uploadedElements - before.uploadedElements, largestUpload,
                    downloads - before.downloads, downloadedElements - before.downloadedElements);
        }
    }

    public synchronized Transfers transfers() {
        return new Transfers(uploads, uploadedElements, largestUpload, downloads, downloadedElements);
    }

    /** The element count of every upload so far, in order. */
    public synchronized List<Integer> uploadSizes() {
        return List.copyOf(uploadSizes);
    }

    /** Runs body with this backend serving {@code cuda:0}, putting back whatever served it before. */
    public <T> T around(Supplier<T> body) {
        Backend previous = Backends.install(Device.Kind.CUDA, proxy);
        try {
            return body.get();
        } finally {
            Backends.install(Device.Kind.CUDA, previous);
        }
    }

    /** Storage on the emulated device: a host array under a device's name. */
    private static final class DeviceStorage extends Storage {
        final HostStorage host;

        DeviceStorage(HostStorage host) {
            super(host.dtype(), host.size());
            this.host = host;
        }

        @Override
        public Device device() {
            return DEVICE;
        }

        @Override
        protected void onRelease() {
            host.release();
        }
    }

    private Object call(Method method, Object[] args) throws Throwable {
        switch (method.getName()) {
            case "name": return "emulated-cuda";
            case "deviceKind": return Device.Kind.CUDA;
            case "priority": return 0;
            case "unavailableReason": return null;
            case "hashCode": return System.identityHashCode(proxy);
            case "equals": return args[0] == proxy;
            case "toString": return "EmulatedDevice";
            default: break;
        }
        if (method.getName().equals("upload")) {
            HostStorage h = (HostStorage) args[0];
            synchronized (this) {
                uploads++;
                uploadedElements += h.size();
                largestUpload = Math.max(largestUpload, h.size());
                uploadSizes.add(h.size());
            }
            HostStorage copy = HostStorage.allocate(h.dtype(), h.size(), false);
            Tensor src = Tensor.contiguousView(h, h.size()), dst = Tensor.contiguousView(copy, copy.size());
            ref.copyInto(dst, src);
            return adopt(copy, new IdentityHashMap<>());
        }
        // Inputs become host views of the same arrays; results are renamed as device storage.
        Map<Storage, DeviceStorage> inputs = new IdentityHashMap<>();
        Object[] hostArgs = args == null ? null : new Object[args.length];
        for (int i = 0; args != null && i < args.length; i++) hostArgs[i] = toHost(args[i], inputs);
        if (method.getName().equals("download")) {
            Tensor t = (Tensor) hostArgs[0];
            synchronized (this) {
                downloads++;
                downloadedElements += t.numel();
            }
            return ref.download(t);
        }
        Object result;
        try {
            result = method.invoke(ref, hostArgs);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
        return toDevice(result, inputs);
    }

    private Object toHost(Object a, Map<Storage, DeviceStorage> inputs) {
        if (a instanceof Tensor t) return host(t, inputs);
        if (a instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object o : list) out.add(toHost(o, inputs));
            return out;
        }
        if (a instanceof GemmShape g) return GemmShape.resolve(host(g.a(), inputs), g.transA(), host(g.b(), inputs), g.transB(), host(g.c0(), inputs));
        if (a instanceof ReductionPlan p) {
            return new ReductionPlan(p.op(), host(p.x(), inputs), p.dims(), p.keepdim(), p.perm(), p.keptRank(), p.len(), p.rows(), p.outShape());
        }
        if (a instanceof TopKPlan p) return new TopKPlan(host(p.x(), inputs), p.k(), p.rows(), p.n(), p.outShape());
        if (a instanceof AdamWParameter p) {
            return new AdamWParameter(host(p.param(), inputs), host(p.grad(), inputs), host(p.m(), inputs), host(p.v(), inputs), p.decays());
        }
        if (a instanceof AttentionPlan p) {
            return new AttentionPlan(host(p.q(), inputs), host(p.k(), inputs), host(p.v(), inputs), p.scale(),
                    p.batch(), p.heads(), p.tokens(), p.headDim());
        }
        return a;
    }

    private static Tensor host(Tensor t, Map<Storage, DeviceStorage> inputs) {
        if (t == null) return null;
        if (!(t.storage() instanceof DeviceStorage d)) {
            throw new IllegalArgumentException("emulated cuda:0 was handed a tensor on " + t.device());
        }
        inputs.put(d.host, d);
        return Tensor.strided(d.host, t.shape(), t.strides(), t.offset());
    }

    private Object toDevice(Object r, Map<Storage, DeviceStorage> inputs) {
        if (r instanceof Tensor t) return device(t, inputs);
        if (r instanceof Tensor[] ts) {
            Tensor[] out = new Tensor[ts.length];
            for (int i = 0; i < ts.length; i++) out[i] = ts[i] == null ? null : device(ts[i], inputs);
            return out;
        }
        if (r instanceof Backend.LayerNormResult l) {
            return new Backend.LayerNormResult(device(l.y(), inputs), device(l.mean(), inputs), device(l.rstd(), inputs));
        }
        if (r instanceof Backend.LinearGeluResult g) return new Backend.LinearGeluResult(device(g.y(), inputs), device(g.z(), inputs));
        if (r instanceof Backend.AddLayerNormResult a) {
            Backend.LayerNormResult l = a.norm();
            return new Backend.AddLayerNormResult(device(a.h(), inputs),
                    new Backend.LayerNormResult(device(l.y(), inputs), device(l.mean(), inputs), device(l.rstd(), inputs)));
        }
        if (r instanceof Backend.AttentionResult a) return new Backend.AttentionResult(device(a.out(), inputs), device(a.lse(), inputs));
        if (r instanceof TopK k) return new TopK(device(k.values(), inputs), device(k.indices(), inputs));
        if (r instanceof HostStorage h) return adopt(h, inputs);
        return r;
    }

    private Tensor device(Tensor t, Map<Storage, DeviceStorage> inputs) {
        return Tensor.strided(adopt((HostStorage) t.storage(), inputs), t.shape(), t.strides(), t.offset());
    }

    /** The device storage for host array h: an input's own, or a new one that takes h's place in the scopes. */
    private static DeviceStorage adopt(HostStorage h, Map<Storage, DeviceStorage> inputs) {
        DeviceStorage known = inputs.get(h);
        if (known != null) return known;
        MemoryScope.disown(h);
        DeviceStorage d = new DeviceStorage(h);
        MemoryScope.register(d);
        inputs.put(h, d);
        return d;
    }
}
