package dev.irtj.kernels.cuda;

import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Tensor;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import java.util.ArrayList;
import java.util.List;

/**
 * The parameter array of one kernel launch, built in the order of the kernel's signature. It
 * holds the storages whose addresses it carries, so that they stay reachable (their blocks are
 * not returned by the Cleaner) while it is: {@link Cuda#launch} fences it after cuLaunchKernel.
 */
final class KernelArgs {
    /** IRTJ_MAX_RANK in native/src/cuda/common.cuh. */
    static final int MAX_RANK = 8;
    private static final CUdeviceptr NULL = new CUdeviceptr();

    private final List<NativePointerObject> args = new ArrayList<>();
    private final List<CudaStorage> storages = new ArrayList<>();

    KernelArgs ptr(CUdeviceptr p) {
        args.add(Pointer.to(p == null ? NULL : p));
        return this;
    }

    /** The storage address of a device tensor (element 0 of its storage, not of the view). */
    KernelArgs base(Tensor t) {
        return ptr(t == null ? null : hold(t).ptr());
    }

    private CudaStorage hold(Tensor t) {
        CudaStorage s = (CudaStorage) t.storage();
        storages.add(s);
        return s;
    }

    /** The storages this launch addresses (kept reachable as long as these arguments are). */
    List<CudaStorage> storages() {
        return java.util.Collections.unmodifiableList(storages);
    }

    /** The address of a contiguous tensor's first element. */
    KernelArgs data(Tensor t) {
        if (t == null) return ptr(null);
        CUdeviceptr p = hold(t).ptr();
        return ptr(t.offset() == 0 ? p : p.withByteOffset((long) t.offset() * t.dtype().byteSize()));
    }

    KernelArgs i(int v) {
        args.add(Pointer.to(new int[] {v}));
        return this;
    }

    KernelArgs d(double v) {
        args.add(Pointer.to(new double[] {v}));
        return this;
    }

    /** The struct Strided of common.cuh for the view t: rank, shape[8], stride[8], offset. */
    KernelArgs strided(Tensor t, String op) {
        return ints(stridedInts(t.shape(), t.strides(), t.offset(), op));
    }

    static int[] stridedInts(int[] shape, int[] strides, int offset, String op) {
        if (shape.length > MAX_RANK) {
            throw new IllegalArgumentException(op + " on cuda supports tensors of rank <= " + MAX_RANK + ", got " + Shape.str(shape));
        }
        int[] s = new int[2 + 2 * MAX_RANK];
        s[0] = shape.length;
        for (int d = 0; d < shape.length; d++) {
            s[1 + d] = shape[d];
            s[1 + MAX_RANK + d] = strides[d];
        }
        s[1 + 2 * MAX_RANK] = offset;
        return s;
    }

    /** gemm.cuh's struct GemmArgs, by value. */
    KernelArgs gemm(CudaGemm.GemmPlan plan) {
        return ints(plan.args());
    }

    /** A by-value struct of ints. */
    KernelArgs ints(int[] values) {
        args.add(Pointer.to(values.clone()));
        return this;
    }

    Pointer pointer() {
        return Pointer.to(args.toArray(new NativePointerObject[0]));
    }
}
