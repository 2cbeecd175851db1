package dev.irtj.tensor.pickle;

import dev.irtj.tensor.HostStorage;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Storage;
import dev.irtj.tensor.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads PyTorch checkpoints in {@code torch.save}'s zip format (PyTorch 1.6 and later): a zip of
 * {@code PREFIX/data.pkl} (the pickled object, tensors as persistent ids naming storages),
 * {@code PREFIX/data/KEY} (each storage's raw little-endian bytes, stored uncompressed) and small
 * records such as {@code PREFIX/version}. The pickle goes through the restricted
 * {@link Unpickler} with the numpy allow-list plus PyTorch's tensor rebuilders and storage types,
 * so loading a checkpoint never runs code.
 *
 * <p>Storages of float32, float16, bfloat16 (both widened to F32 exactly), float64 and int64 are
 * read; a tensor's size, stride and storage offset are honoured (a transposed or sliced tensor
 * is copied out contiguously). Every storage's element count is checked against its zip entry
 * and the file's size, and every tensor's reach against its storage, before anything is
 * allocated. Zip handling is the JDK's {@code java.util.zip}.
 */
public final class TorchArchive {
    /** Largest {@code data.pkl} read (the pickle holds names and shapes, not tensor data). */
    public static final long MAX_PICKLE_BYTES = 64L << 20;

    private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};

    /** Storage element types, by their PyTorch class. */
    enum StorageType {
        FLOAT("FloatStorage", 4), HALF("HalfStorage", 2), BFLOAT16("BFloat16Storage", 2), DOUBLE("DoubleStorage", 8), LONG("LongStorage", 8);

        final String pyName;
        final int bytes;

        StorageType(String pyName, int bytes) {
            this.pyName = pyName;
            this.bytes = bytes;
        }
    }

    /** Storage classes a checkpoint may name but whose data irtj does not read. */
    private static final Set<String> UNREAD_STORAGES = Set.of("IntStorage", "ShortStorage", "CharStorage", "ByteStorage",
            "BoolStorage", "ComplexFloatStorage", "ComplexDoubleStorage", "UntypedStorage");

    /** A storage named by a persistent id: {@code ('storage', torch.FloatStorage, key, location, numel)}. */
    record StorageRef(String key, StorageType type, int numel, ZipEntry entry) {
    }

    /** A tensor as {@code torch._utils._rebuild_tensor_v2} describes it, before its data is read. */
    public record TensorRef(StorageRef storage, int offset, int[] size, int[] stride) {
        @Override
        public String toString() {
            return "tensor " + Arrays.toString(size);
        }
    }

    private TorchArchive() {
    }

    /** Whether the file starts as a zip archive does (a local file header). */
    public static boolean isZip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return Arrays.equals(in.readNBytes(4), ZIP_MAGIC);
        }
    }

    /**
     * The state dict of a checkpoint: the pickled dict itself when its values are tensors, or
     * the dict under {@code "model"} or {@code "state_dict"} (how DeiT's and many training
     * scripts' releases wrap it). Tensors in file order, F32 (float32/16, bfloat16), F64 or I64.
     *
     * @throws PickleException for anything that is not such a checkpoint, in one line naming the file
     */
    public static Map<String, Tensor> readStateDict(Path file) throws IOException {
        String source = file.toString();
        long fileSize = Files.size(file);
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (java.util.zip.ZipException | IllegalArgumentException e) {
            throw new PickleException(source, "not a readable zip archive (" + reason(e) + "), so not a torch.save checkpoint");
        }
        try (zip) {
            return readStateDict(zip, source, fileSize);
        } catch (PickleException e) {
            throw e;
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            // ZipException or EOFException: a corrupt record; IllegalArgument: a malformed record name (the JDK's decoder)
            throw new PickleException(source, "corrupt zip archive (" + reason(e) + ")");
        }
    }

    private static String reason(Exception e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    private static Map<String, Tensor> readStateDict(ZipFile zip, String source, long fileSize) throws IOException {
        ZipEntry pkl = null;
        String prefix = null;
        for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
            ZipEntry e = en.nextElement();
            String n = e.getName();
            int slash = n.indexOf('/');
            if (slash > 0 && n.substring(slash + 1).equals("data.pkl")) {
                if (pkl != null) throw new PickleException(source, "holds two data.pkl records (" + pkl.getName() + " and " + PickleException.printable(n) + ")");
                pkl = e;
                prefix = n.substring(0, slash + 1);
            }
        }
        if (pkl == null) {
            throw new PickleException(source, "is a zip archive without a PREFIX/data.pkl record, so not a torch.save checkpoint");
        }
        ZipEntry order = zip.getEntry(prefix + "byteorder");
        if (order != null) {
            String o = new String(readEntry(zip, order, 16, fileSize, source), StandardCharsets.US_ASCII).trim();
            if (!o.equals("little")) throw new PickleException(source, "storages are in byte order '" + PickleException.printable(o) + "'; irtj reads little-endian ones");
        }
        byte[] pickle = readEntry(zip, pkl, Math.min(MAX_PICKLE_BYTES, fileSize), fileSize, source);
        String pickleSource = source + " (" + PickleException.printable(pkl.getName()) + ")";
        Map<String, StorageRef> storages = new HashMap<>();
        String dataPrefix = prefix + "data/";
        Object root = Unpickler.load(pickle, pickleSource, allowList(),
                pid -> storage(pid, zip, dataPrefix, storages, fileSize, pickleSource));

        Map<?, ?> dict = stateDictOf(root, source);
        Map<String, TensorRef> refs = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String name)) {
                throw new PickleException(source, "state dict has a key that is " + Unpickler.kind(e.getKey()) + ", not a str");
            }
            if (!(e.getValue() instanceof TensorRef t)) {
                throw new PickleException(source, "state dict entry '" + PickleException.printable(name) + "' is "
                        + Unpickler.kind(e.getValue()) + ", not a tensor");
            }
            refs.put(name, t);
        }
        Map<String, Storage> read = new HashMap<>();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, TensorRef> e : refs.entrySet()) {
            TensorRef t = e.getValue();
            Storage s = read.get(t.storage().key());
            if (s == null) {
                s = readStorage(zip, t.storage(), fileSize, source);
                read.put(t.storage().key(), s);
            }
            Tensor view = Tensor.strided(s, t.size(), t.stride(), t.offset());
            boolean whole = view.isContiguous() && t.offset() == 0 && view.numel() == s.size();
            out.put(e.getKey(), whole ? view : view.copy());
        }
        return out;
    }

    /** The state dict in the unpickled root: the root, or its "model" / "state_dict" entry. */
    private static Map<?, ?> stateDictOf(Object root, String source) throws PickleException {
        if (!(root instanceof Map<?, ?> m)) {
            throw new PickleException(source, "holds " + Unpickler.kind(root) + ", not a dict of tensors (a state dict)");
        }
        for (String wrap : List.of("model", "state_dict")) {
            if (m.get(wrap) instanceof Map<?, ?> inner) return inner;
        }
        return m;
    }

    // ---- storages -------------------------------------------------------------------------------

    private static Object storage(Object pid, ZipFile zip, String dataPrefix, Map<String, StorageRef> seen, long fileSize,
                                  String source) throws PickleException {
        if (!(pid instanceof PyTuple t) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw new PickleException(source, "persistent id is " + Unpickler.kind(pid) + ", not ('storage', type, key, location, numel)");
        }
        if (!(t.get(1) instanceof PyGlobal g) || !g.module().equals("torch")) {
            throw new PickleException(source, "storage type is " + Unpickler.kind(t.get(1)) + ", not a torch storage class");
        }
        StorageType type = null;
        for (StorageType s : StorageType.values()) if (s.pyName.equals(g.name())) type = s;
        if (type == null) {
            throw new PickleException(source, "holds a storage of torch." + g.name()
                    + ", which irtj does not read (it reads Float, Half, BFloat16, Double and Long storages)");
        }
        if (!(t.get(2) instanceof String key) || !(t.get(4) instanceof Long numel) || numel < 0) {
            throw new PickleException(source, "storage id wants a str key and a non-negative int size");
        }
        StorageRef prev = seen.get(key);
        if (prev != null) {
            if (prev.type() != type || prev.numel() != numel) {
                throw new PickleException(source, "storage '" + PickleException.printable(key) + "' is named twice with different types or sizes");
            }
            return prev;
        }
        if (numel > Integer.MAX_VALUE) {
            throw new PickleException(source, "storage '" + PickleException.printable(key) + "' of " + numel
                    + " elements is larger than irtj can hold (2^31-1)");
        }
        ZipEntry entry = zip.getEntry(dataPrefix + key);
        if (entry == null) throw new PickleException(source, "storage '" + PickleException.printable(key) + "' has no record " + PickleException.printable(dataPrefix + key));
        long want = numel * type.bytes;
        if (entry.getSize() != want) {
            throw new PickleException(source, "storage '" + PickleException.printable(key) + "' of " + numel + " " + type.pyName
                    + " elements needs " + want + " bytes but its record holds " + entry.getSize());
        }
        if (want > fileSize || entry.getMethod() != ZipEntry.STORED) {
            throw new PickleException(source, "storage '" + PickleException.printable(key) + "' is "
                    + (entry.getMethod() != ZipEntry.STORED ? "compressed" : "larger than the file") + "; torch.save writes storages uncompressed");
        }
        StorageRef ref = new StorageRef(key, type, (int) (long) numel, entry);
        seen.put(key, ref);
        return ref;
    }

    private static Storage readStorage(ZipFile zip, StorageRef ref, long fileSize, String source) throws IOException {
        byte[] raw = readEntry(zip, ref.entry(), fileSize, fileSize, source);
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int n = ref.numel();
        switch (ref.type()) {
            case FLOAT -> {
                float[] a = new float[n];
                b.asFloatBuffer().get(a);
                return HostStorage.wrap(a);
            }
            case HALF, BFLOAT16 -> {
                float[] a = new float[n];
                boolean half = ref.type() == StorageType.HALF;
                for (int i = 0; i < n; i++) {
                    short s = b.getShort(2 * i);
                    a[i] = half ? SafeTensors.halfToFloat(s) : SafeTensors.bfloat16ToFloat(s);
                }
                return HostStorage.wrap(a);
            }
            case DOUBLE -> {
                double[] a = new double[n];
                b.asDoubleBuffer().get(a);
                return HostStorage.wrap(a);
            }
            case LONG -> {
                long[] a = new long[n];
                b.asLongBuffer().get(a);
                return HostStorage.wrap(a);
            }
            default -> throw new AssertionError(ref.type());
        }
    }

    /** An entry's bytes, refusing one that declares more than {@code limit} bytes or stops short of what it declares. */
    private static byte[] readEntry(ZipFile zip, ZipEntry e, long limit, long fileSize, String source) throws IOException {
        long size = e.getSize();
        if (size < 0 || size > limit || size > fileSize && e.getMethod() == ZipEntry.STORED) {
            throw new PickleException(source, "record " + PickleException.printable(e.getName()) + " declares "
                    + size + " bytes, more than " + limit + " allowed");
        }
        byte[] out;
        try (InputStream in = zip.getInputStream(e)) {
            out = in.readNBytes((int) size);
            if (out.length != size) {
                throw new PickleException(source, "record " + PickleException.printable(e.getName()) + " ends after " + out.length
                        + " of its " + size + " bytes");
            }
        }
        return out;
    }

    // ---- the allow-list -------------------------------------------------------------------------

    private static AllowList allowList() {
        Map<String, AllowList.Call> calls = new LinkedHashMap<>();
        calls.put("torch._utils._rebuild_tensor_v2", TorchArchive::rebuildTensor);
        calls.put("torch._utils._rebuild_tensor", TorchArchive::rebuildTensor);
        calls.put("torch._utils._rebuild_parameter", TorchArchive::rebuildParameter);
        calls.put("torch._utils._rebuild_parameter_with_state", TorchArchive::rebuildParameter);
        List<String> types = new ArrayList<>();
        for (StorageType s : StorageType.values()) types.add("torch." + s.pyName);
        for (String s : UNREAD_STORAGES) types.add("torch." + s);
        return AllowList.numpy().plus(calls, Set.copyOf(types));
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private static Object rebuildTensor(PyTuple args) throws AllowList.BadArguments {
        if (args.size() < 4 || !(args.get(0) instanceof StorageRef s)) {
            throw new AllowList.BadArguments("wants (storage, offset, size, stride, ...)");
        }
        int offset = AllowList.intArg(args.get(1), "storage offset", 0);
        int[] size = AllowList.intTuple(args.get(2), "size");
        int[] stride = AllowList.intTuple(args.get(3), "stride");
        if (size.length != stride.length) {
            throw new AllowList.BadArguments("size " + Arrays.toString(size) + " and stride " + Arrays.toString(stride) + " differ in rank");
        }
        long numel = 1, reach = offset;
        for (int i = 0; i < size.length; i++) {
            numel *= size[i];
            if (numel > Integer.MAX_VALUE) throw new AllowList.BadArguments("size " + Arrays.toString(size) + " has more than 2^31-1 elements");
        }
        if (numel > 0) {
            for (int i = 0; i < size.length && reach < s.numel(); i++) reach += (long) (size[i] - 1) * stride[i]; // each term < 2^62: no overflow
            if (reach >= s.numel()) {
                throw new AllowList.BadArguments("size " + Arrays.toString(size) + ", stride " + Arrays.toString(stride) + " and offset "
                        + offset + " reach element " + reach + " of storage '" + PickleException.printable(s.key()) + "' of " + s.numel());
            }
        }
        return new TensorRef(s, offset, size, stride);
    }

    /** {@code _rebuild_parameter(data, requires_grad, backward_hooks)}: the tensor itself. */
    private static Object rebuildParameter(PyTuple args) throws AllowList.BadArguments {
        if (args.size() < 1 || !(args.get(0) instanceof TensorRef t)) throw new AllowList.BadArguments("wants (tensor, requires_grad, hooks)");
        return t;
    }
}
