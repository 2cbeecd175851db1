package dev.irtj.kernels.cpu;

import dev.irtj.tensor.Backend;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.GemmShape;
import dev.irtj.tensor.HostStorage;
import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Tensor;

import java.util.Arrays;

/**
 * Maps a batched, broadcast, strided tensor GEMM onto {@link Sgemm}: each operand's last two
 * dims become a row-major matrix with a leading dimension (a column-major layout is absorbed as
 * a transpose, anything else is copied once), and its batch dims become a list of offsets. A
 * uniform batch stride goes to {@link Sgemm#sgemmBatched}; irregular ones run item by item over
 * the pool.
 */
final class GemmDispatch {
    private GemmDispatch() {
    }

    /** One operand as Sgemm sees it. */
    private record Operand(float[] data, int[] offsets, int ld, boolean trans) {
        /** The common stride of the batch offsets, or -1 when they are not evenly spaced. */
        int uniformStride() {
            if (offsets.length < 2) return 0;
            int s = offsets[1] - offsets[0];
            for (int i = 2; i < offsets.length; i++) if (offsets[i] - offsets[i - 1] != s) return -1;
            return s;
        }
    }

    static Tensor gemm(SimdBackend backend, GemmShape plan, float alpha, float beta) {
        Tensor a = plan.a(), b = plan.b(), c0 = plan.c0();
        boolean transA = plan.transA(), transB = plan.transB();
        int m = plan.m(), n = plan.n(), k = plan.k();
        int[] batch = plan.batchShape();
        int[] outShape = plan.outShape();
        int items = Shape.numel(batch);
        Tensor out = Tensor.contiguousView(HostStorage.allocate(DType.F32, Shape.numel(outShape), false), outShape);
        float[] c = ((HostStorage) out.storage()).f32();
        if (out.numel() == 0) return out;
        Operand opA = operand(backend, a, transA, batch);
        Operand opB = operand(backend, b, transB, batch);
        int strideA = opA.uniformStride(), strideB = opB.uniformStride();
        boolean stackedRows = stackedRows(items, opA, opB, m);
        boolean single = items == 1 || stackedRows;
        Tensor bias = single && beta == 1f ? columnBias(c0, outShape) : null;
        float effectiveBeta = 0f;
        if (c0 != null && beta != 0f && bias == null) {
            out.copyFrom(c0);
            effectiveBeta = beta;
        }
        float[] biasData = bias == null ? null : ((HostStorage) bias.storage()).f32();
        int biasOff = bias == null ? 0 : bias.offset();
        if (single) {
            Sgemm.sgemm(opA.trans, opB.trans, stackedRows ? items * m : m, n, k, alpha,
                    opA.data, opA.offsets[0], opA.ld, opB.data, opB.offsets[0], opB.ld,
                    effectiveBeta, c, 0, n, biasData, biasOff);
        } else if (strideA >= 0 && strideB >= 0) {
            Sgemm.sgemmBatched(items, opA.trans, opB.trans, m, n, k, alpha,
                    opA.data, opA.offsets[0], Math.max(strideA, 0), opA.ld,
                    opB.data, opB.offsets[0], Math.max(strideB, 0), opB.ld,
                    effectiveBeta, c, 0, m * n, n);
        } else {
            float betaFinal = effectiveBeta;
            GemmPool.parallelFor(items, i -> Sgemm.sgemm(opA.trans, opB.trans, m, n, k, alpha,
                    opA.data, opA.offsets[i], opA.ld, opB.data, opB.offsets[i], opB.ld,
                    betaFinal, c, i * m * n, n));
        }
        return out;
    }

    /**
     * z = op(A)·op(B) and y = gelu(z + bias) for a Linear layer followed by GELU (plan without
     * c0, bias a contiguous [n] from {@code biasOff}). A single or row-stacked product (every
     * Linear on [batch, tokens, features]) runs {@link Sgemm#sgemmBiasGelu}, whose epilogue forms
     * y as each block of z is stored; other batched layouts multiply first and then make one bias
     * + GELU pass over z.
     */
    static Backend.LinearGeluResult linearGelu(SimdBackend backend, GemmShape plan, float[] bias, int biasOff) {
        int m = plan.m(), n = plan.n(), k = plan.k();
        int[] outShape = plan.outShape();
        int items = plan.batch();
        Tensor y = Tensor.contiguousView(HostStorage.allocate(DType.F32, Shape.numel(outShape), false), outShape);
        if (y.numel() == 0) return new Backend.LinearGeluResult(y, Tensor.contiguousView(HostStorage.allocate(DType.F32, 0, false), outShape));
        Operand opA = operand(backend, plan.a(), plan.transA(), plan.batchShape());
        Operand opB = operand(backend, plan.b(), plan.transB(), plan.batchShape());
        if (items == 1 || stackedRows(items, opA, opB, m)) {
            Tensor z = Tensor.contiguousView(HostStorage.allocate(DType.F32, Shape.numel(outShape), false), outShape);
            Sgemm.sgemmBiasGelu(opA.trans, opB.trans, items * m, n, k, opA.data, opA.offsets[0], opA.ld,
                    opB.data, opB.offsets[0], opB.ld, ((HostStorage) y.storage()).f32(), 0, n,
                    ((HostStorage) z.storage()).f32(), 0, bias, biasOff);
            return new Backend.LinearGeluResult(y, z);
        }
        Tensor z = gemm(backend, plan, 1f, 0f);
        GeluKernels.biasGelu(((HostStorage) z.storage()).f32(), 0, bias, biasOff, ((HostStorage) y.storage()).f32(), 0,
                items * m, n);
        return new Backend.LinearGeluResult(y, z);
    }

    /**
     * A Linear layer on [batch, tokens, features]: B is shared and A's items are stacked rows,
     * so the batch is one tall product (no per-item edge tiles, one packing of B).
     */
    private static boolean stackedRows(int items, Operand opA, Operand opB, int m) {
        return items > 1 && opB.uniformStride() == 0 && !opA.trans && opA.uniformStride() == m * opA.ld;
    }

    /**
     * {@code c0} as a contiguous row of n values when, broadcast to the output, it is the same
     * value down every column (a Linear layer's bias); null otherwise.
     */
    private static Tensor columnBias(Tensor c0, int[] outShape) {
        if (c0 == null || !(c0.storage() instanceof HostStorage) || c0.dtype() != DType.F32) return null;
        int n = outShape[outShape.length - 1];
        if (c0.rank() > outShape.length || n == 0) return null;
        for (int d = 0; d < c0.rank() - 1; d++) if (c0.shape(d) != 1) return null;
        if (c0.shape(-1) != n || (n > 1 && c0.stride(-1) != 1)) return null;
        return c0;
    }

    private static int[] batchOf(Tensor t) {
        return Arrays.copyOf(t.shape(), t.rank() - 2);
    }

    /**
     * The operand's storage, per-item offsets over the broadcast batch, leading dimension and
     * effective transpose flag. {@code trans} says whether the stored last two dims are op's
     * transpose.
     */
    private static Operand operand(SimdBackend backend, Tensor t, boolean trans, int[] batch) {
        int rows = t.shape(-2), cols = t.shape(-1);
        int rs = t.stride(-2), cs = t.stride(-1);
        Tensor view = t;
        int ld;
        boolean effTrans = trans;
        if (cs == 1 || cols == 1) {
            ld = rows == 1 ? Math.max(cols, 1) : rs;
            if (ld < cols) {
                view = backend.denseF32(t.contiguous());
                ld = cols;
            }
        } else if (rs == 1 || rows == 1) {
            // Column-major storage of the last two dims: it is the transpose, row-major.
            ld = cols == 1 ? Math.max(rows, 1) : cs;
            effTrans = !trans;
            if (ld < rows) {
                view = backend.denseF32(t.contiguous());
                ld = cols;
                effTrans = trans;
            }
        } else {
            view = t.contiguous();
            ld = cols;
        }
        int[] full = Arrays.copyOf(batch, batch.length + 2);
        full[batch.length] = rows;
        full[batch.length + 1] = cols;
        Tensor expanded = view.expand(full);
        int items = Shape.numel(batch);
        int[] offsets = new int[Math.max(items, 1)];
        int[] strides = expanded.strides();
        int[] coord = new int[batch.length];
        for (int i = 0; i < items; i++) {
            int pos = expanded.offset(), rem = i;
            for (int d = batch.length - 1; d >= 0; d--) {
                coord[d] = rem % batch[d];
                rem /= batch[d];
                pos += coord[d] * strides[d];
            }
            offsets[i] = pos;
        }
        if (items == 0) offsets[0] = expanded.offset();
        return new Operand(((HostStorage) view.storage()).f32(), offsets, ld, effTrans);
    }
}
