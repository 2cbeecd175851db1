package dev.irtj.tensor;

import java.util.List;

/**
 * Plain loops on the host, F32 and F64, written for clarity rather than speed. Every element is
 * read through {@link HostStorage#get} (widened to double), computed in double and rounded once
 * on store. This backend is the oracle every faster backend is tested against.
 */
public final class ReferenceBackend implements Backend {

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public Device.Kind deviceKind() {
        return Device.Kind.CPU;
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    // ---- memory -------------------------------------------------------------------------------

    @Override
    public Storage allocate(Device device, DType dtype, int numel, boolean zero) {
        return HostStorage.allocate(dtype, numel, zero);
    }

    @Override
    public Storage upload(HostStorage host, Device device) {
        return host;
    }

    @Override
    public HostStorage download(Tensor t) {
        // Unpooled: the caller owns the array, and no scope may recycle it underneath.
        HostStorage out = HostStorage.unpooled(t.dtype(), t.numel());
        copyInto(Tensor.contiguousView(out, t.shape()), t);
        return out;
    }

    private static HostStorage host(Tensor t) {
        if (t.storage() instanceof HostStorage h) return h;
        throw new IllegalArgumentException("the reference backend computes on host tensors, got one on " + t.device());
    }

    private static Tensor newTensor(DType dtype, int[] shape) {
        return Tensor.contiguousView(HostStorage.allocate(dtype, Shape.numel(shape), false), shape);
    }

    private static Tensor newZeros(DType dtype, int[] shape) {
        return Tensor.contiguousView(HostStorage.allocate(dtype, Shape.numel(shape), true), shape);
    }

    private static void requireFloating(Tensor t, String op) {
        if (!t.dtype().isFloating()) throw new IllegalArgumentException(op + " is not defined for " + t.dtype() + " tensors");
    }

    // ---- data movement ------------------------------------------------------------------------

    @Override
    public Tensor copy(Tensor src, DType dtype) {
        Tensor out = newTensor(dtype, src.shape());
        copyInto(out, src);
        return out;
    }

    @Override
    public void copyInto(Tensor dst, Tensor src) {
        Tensor s = src.expand(dst.shape());
        HostStorage in = host(s), out = host(dst);
        int[] from = StridedIndex.offsets(s), to = StridedIndex.offsets(dst);
        if (in == out && dst.numel() > 0) {
            // Overlapping source and destination: read everything first.
            double[] tmp = new double[from.length];
            for (int i = 0; i < from.length; i++) tmp[i] = in.get(from[i]);
            for (int i = 0; i < to.length; i++) out.set(to[i], tmp[i]);
            return;
        }
        for (int i = 0; i < to.length; i++) out.set(to[i], in.get(from[i]));
    }

    @Override
    public void fill(Tensor dst, double value) {
        HostStorage out = host(dst);
        for (int p : StridedIndex.offsets(dst)) out.set(p, value);
    }

    @Override
    public Tensor cat(List<Tensor> tensors, int dim) {
        int[] shape = tensors.get(0).shape();
        int total = 0;
        for (Tensor t : tensors) total += t.shape(dim);
        shape[dim] = total;
        Tensor out = newTensor(tensors.get(0).dtype(), shape);
        int at = 0;
        for (Tensor t : tensors) {
            copyInto(out.narrow(dim, at, t.shape(dim)), t);
            at += t.shape(dim);
        }
        return out;
    }

    private static long[] indices(Tensor index, int bound, String op) {
        long[] idx = index.contiguous().toLongArray();
        for (long i : idx) {
            if (i < 0 || i >= bound) throw new IndexOutOfBoundsException(op + ": index " + i + " out of range [0, " + bound + ")");
        }
        return idx;
    }

    @Override
    public Tensor indexSelect(Tensor x, int dim, Tensor index) {
        long[] idx = indices(index, x.shape(dim), "index_select");
        int[] shape = x.shape();
        shape[dim] = idx.length;
        Tensor out = newTensor(x.dtype(), shape);
        for (int i = 0; i < idx.length; i++) copyInto(out.narrow(dim, i, 1), x.narrow(dim, (int) idx[i], 1));
        return out;
    }

    @Override
    public Tensor gather(Tensor x, int dim, Tensor index) {
        int[] shape = index.shape();
        for (int d = 0; d < shape.length; d++) {
            if (d != dim && shape[d] > x.shape(d)) {
                throw new IllegalArgumentException("gather: index " + Shape.str(shape) + " larger than input " + Shape.str(x.shape()) + " in dim " + d);
            }
        }
        long[] idx = indices(index, x.shape(dim), "gather");
        Tensor out = newTensor(x.dtype(), shape);
        HostStorage in = host(x), o = host(out);
        int[] coord = new int[shape.length];
        int[] xStrides = x.strides();
        for (int i = 0; i < idx.length; i++) {
            StridedIndex.coordinates(i, shape, coord);
            coord[dim] = (int) idx[i];
            int pos = x.offset();
            for (int d = 0; d < coord.length; d++) pos += coord[d] * xStrides[d];
            o.set(i, in.get(pos));
        }
        return out;
    }

    @Override
    public Tensor indexAdd(int[] shape, int dim, Tensor index, Tensor src) {
        long[] idx = indices(index, shape[dim], "index_add");
        Tensor out = newZeros(src.dtype(), shape);
        for (int i = 0; i < idx.length; i++) {
            Tensor slot = out.narrow(dim, (int) idx[i], 1);
            copyInto(slot, binary(BinaryOp.ADD, slot, src.narrow(dim, i, 1)));
        }
        return out;
    }

    @Override
    public Tensor scatterAdd(int[] shape, int dim, Tensor index, Tensor src) {
        long[] idx = indices(index, shape[dim], "scatter_add");
        int[] idxShape = index.shape();
        if (idxShape.length != shape.length) {
            throw new IllegalArgumentException("scatter_add: index " + Shape.str(idxShape) + " and output " + Shape.str(shape) + " differ in rank");
        }
        for (int d = 0; d < idxShape.length; d++) {
            if (d != dim && idxShape[d] > shape[d]) {
                throw new IllegalArgumentException("scatter_add: index " + Shape.str(idxShape) + " larger than output " + Shape.str(shape) + " in dim " + d);
            }
        }
        Tensor out = newZeros(src.dtype(), shape);
        HostStorage in = host(src), o = host(out);
        int[] coord = new int[idxShape.length], srcOff = StridedIndex.offsets(src.narrowTo(idxShape));
        for (int i = 0; i < idx.length; i++) {
            StridedIndex.coordinates(i, idxShape, coord);
            coord[dim] = (int) idx[i];
            int p = StridedIndex.linear(coord, shape);
            o.set(p, o.get(p) + in.get(srcOff[i]));
        }
        return out;
    }

    // ---- elementwise --------------------------------------------------------------------------

    @Override
    public Tensor unary(UnaryOp op, Tensor x, double p0, double p1) {
        requireFloating(x, op.name());
        Tensor out = newTensor(x.dtype(), x.shape());
        HostStorage in = host(x), o = host(out);
        int[] off = StridedIndex.offsets(x);
        for (int i = 0; i < off.length; i++) o.set(i, ScalarMath.apply(op, in.get(off[i]), p0, p1));
        return out;
    }

    @Override
    public Tensor unaryBackward(UnaryOp op, Tensor x, Tensor dy, double p0, double p1) {
        requireFloating(x, op.name());
        Tensor out = newTensor(x.dtype(), x.shape());
        HostStorage in = host(x), g = host(dy), o = host(out);
        int[] off = StridedIndex.offsets(x), gOff = StridedIndex.offsets(dy.expand(x.shape()));
        for (int i = 0; i < off.length; i++) o.set(i, g.get(gOff[i]) * ScalarMath.derivative(op, in.get(off[i]), p0, p1));
        return out;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        requireFloating(a, op.name());
        int[] shape = Shape.broadcast(a.shape(), b.shape());
        Tensor out = newTensor(a.dtype(), shape);
        HostStorage ha = host(a), hb = host(b), o = host(out);
        int[] oa = StridedIndex.offsets(a.expand(shape)), ob = StridedIndex.offsets(b.expand(shape));
        for (int i = 0; i < oa.length; i++) o.set(i, ScalarMath.apply(op, ha.get(oa[i]), hb.get(ob[i])));
        return out;
    }

    @Override
    public Tensor where(Tensor cond, Tensor a, Tensor b) {
        int[] shape = Shape.broadcast(cond.shape(), Shape.broadcast(a.shape(), b.shape()));
        Tensor out = newTensor(a.dtype(), shape);
        HostStorage hc = host(cond), ha = host(a), hb = host(b), o = host(out);
        int[] oc = StridedIndex.offsets(cond.expand(shape)), oa = StridedIndex.offsets(a.expand(shape)), ob = StridedIndex.offsets(b.expand(shape));
        for (int i = 0; i < oc.length; i++) o.set(i, hc.get(oc[i]) != 0 ? ha.get(oa[i]) : hb.get(ob[i]));
        return out;
    }

    // ---- reductions ---------------------------------------------------------------------------

    @Override
    public Tensor reduce(ReductionPlan plan) {
        ReduceOp op = plan.op();
        Tensor x = plan.x();
        int[] dims = plan.dims();
        int[] inShape = x.shape();
        int[] keptShape = inShape.clone();
        int count = 1;
        for (int d : dims) {
            keptShape[d] = 1;
            count *= inShape[d];
        }
        int outN = Shape.numel(keptShape);
        double[] acc = new double[outN];
        double init = switch (op) {
            case SUM, MEAN -> 0.0;
            case MAX -> Double.NEGATIVE_INFINITY;
            case MIN -> Double.POSITIVE_INFINITY;
        };
        java.util.Arrays.fill(acc, init);
        HostStorage in = host(x);
        int[] off = StridedIndex.offsets(x);
        int[] coord = new int[inShape.length];
        for (int i = 0; i < off.length; i++) {
            StridedIndex.coordinates(i, inShape, coord);
            for (int d : dims) coord[d] = 0;
            int o = StridedIndex.linear(coord, keptShape);
            double v = in.get(off[i]);
            acc[o] = switch (op) {
                case SUM, MEAN -> acc[o] + v;
                case MAX -> (v > acc[o] || Double.isNaN(v)) && !Double.isNaN(acc[o]) ? v : acc[o];
                case MIN -> (v < acc[o] || Double.isNaN(v)) && !Double.isNaN(acc[o]) ? v : acc[o];
            };
        }
        if (op == ReduceOp.MEAN) {
            for (int i = 0; i < outN; i++) acc[i] /= count;
        }
        Tensor out = newTensor(x.dtype(), plan.outShape());
        HostStorage o = host(out);
        for (int i = 0; i < outN; i++) o.set(i, acc[i]);
        return out;
    }

    @Override
    public Tensor argReduce(ReductionPlan plan) {
        ReduceOp op = plan.op();
        Tensor x = plan.x();
        int dim = plan.dim(), len = plan.len();
        // The reduced dim swapped to the end (not the plan's perm): the transpose back restores the order.
        Tensor moved = x.transpose(dim, -1);
        int rows = x.numel() / len;
        int[] off = StridedIndex.offsets(moved);
        HostStorage in = host(x);
        long[] result = new long[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            double bestV = in.get(off[r * len]);
            for (int j = 1; j < len && !Double.isNaN(bestV); j++) {
                double v = in.get(off[r * len + j]);
                boolean better = op == ReduceOp.MAX ? v > bestV : v < bestV;
                if (better || Double.isNaN(v)) {
                    best = j;
                    bestV = v;
                }
            }
            result[r] = best;
        }
        int[] movedShape = moved.shape();
        movedShape[movedShape.length - 1] = 1;
        Tensor idx = Tensor.ofLongs(result, movedShape).transpose(dim, -1).contiguous();
        return plan.keepdim() ? idx : idx.squeeze(dim);
    }

    /** A full sort of each row by {@link TopKPlan#before}, cut to k: the plain oracle. */
    @Override
    public TopK topk(TopKPlan plan) {
        Tensor x = plan.x();
        int n = plan.n(), k = plan.k(), rows = plan.rows();
        Tensor values = newTensor(x.dtype(), plan.outShape()), indices = newTensor(DType.I64, plan.outShape());
        if (k == 0 || rows == 0) return new TopK(values, indices);
        HostStorage in = host(x), vo = host(values), io = host(indices);
        int[] off = StridedIndex.offsets(x);
        Integer[] order = new Integer[n];
        for (int r = 0; r < rows; r++) {
            int base = r * n;
            for (int j = 0; j < n; j++) order[j] = j;
            java.util.Arrays.sort(order, (a, b) -> {
                double va = in.get(off[base + a]), vb = in.get(off[base + b]);
                return TopKPlan.before(va, a, vb, b) ? -1 : TopKPlan.before(vb, b, va, a) ? 1 : 0;
            });
            for (int j = 0; j < k; j++) {
                vo.set(r * k + j, in.get(off[base + order[j]]));
                io.set(r * k + j, order[j]);
            }
        }
        return new TopK(values, indices);
    }

    // ---- fused kernels ------------------------------------------------------------------------

    @Override
    public Tensor gemm(GemmShape plan, double alpha, double beta) {
        Tensor a = plan.a(), b = plan.b(), c0 = plan.c0();
        Tensor opA = plan.opA(), opB = plan.opB();
        int m = plan.m(), k = plan.k(), n = plan.n();
        int[] batch = plan.batchShape();
        int[] outShape = plan.outShape();
        int nb = Shape.numel(batch);
        int[] offA = StridedIndex.offsets(opA.expand(concat(batch, m, k)));
        int[] offB = StridedIndex.offsets(opB.expand(concat(batch, k, n)));
        HostStorage ha = host(a), hb = host(b);
        HostStorage hc = c0 == null ? null : host(c0);
        int[] offC = c0 == null ? null : StridedIndex.offsets(c0.expand(outShape));
        Tensor out = newTensor(a.dtype(), outShape);
        HostStorage o = host(out);
        for (int bi = 0; bi < nb; bi++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += ha.get(offA[(bi * m + i) * k + p]) * hb.get(offB[(bi * k + p) * n + j]);
                    }
                    int at = (bi * m + i) * n + j;
                    double v = alpha * s;
                    if (hc != null && beta != 0) v += beta * hc.get(offC[at]);
                    o.set(at, v);
                }
            }
        }
        return out;
    }

    /** The composition it replaces: the elementwise sum, then layer norm of it. */
    @Override
    public AddLayerNormResult addLayerNorm(Tensor x, Tensor r, Tensor weight, Tensor bias, double eps) {
        Tensor h = binary(BinaryOp.ADD, x, r);
        return new AddLayerNormResult(h, layerNorm(h, weight, bias, eps));
    }

    /** The composition it replaces: the product, then the bias added and GELU applied elementwise. */
    @Override
    public LinearGeluResult linearGelu(GemmShape plan, Tensor bias) {
        Tensor z = gemm(plan, 1.0, 0.0);
        return new LinearGeluResult(unary(UnaryOp.GELU, binary(BinaryOp.ADD, z, bias), 0, 0), z);
    }

    /** GELU's backward at z + bias, then the column sum over every leading dim. */
    @Override
    public Tensor[] linearGeluBackward(Tensor z, Tensor bias, Tensor dy) {
        Tensor dz = unaryBackward(UnaryOp.GELU, binary(BinaryOp.ADD, z, bias), dy, 0, 0);
        int[] leading = new int[dz.rank() - 1];
        for (int d = 0; d < leading.length; d++) leading[d] = d;
        return new Tensor[] {dz, reduce(ReductionPlan.resolve(ReduceOp.SUM, dz, leading, false))};
    }

    private static int[] batchShape(Tensor t) {
        int[] s = t.shape();
        return java.util.Arrays.copyOf(s, s.length - 2);
    }

    private static int[] concat(int[] batch, int r, int c) {
        int[] s = java.util.Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = r;
        s[batch.length + 1] = c;
        return s;
    }

    /** Rows of the last dim of x, each read into a double array. */
    private static double[][] rows(Tensor x) {
        int len = x.shape(-1), n = x.numel() / Math.max(len, 1);
        double[][] r = new double[n][len];
        HostStorage h = host(x);
        int[] off = StridedIndex.offsets(x);
        for (int i = 0; i < n; i++) for (int j = 0; j < len; j++) r[i][j] = h.get(off[i * len + j]);
        return r;
    }

    private static Tensor fromRows(DType dtype, int[] shape, double[][] rows) {
        Tensor out = newTensor(dtype, shape);
        HostStorage o = host(out);
        int p = 0;
        for (double[] row : rows) for (double v : row) o.set(p++, v);
        return out;
    }

    @Override
    public Tensor softmax(Tensor x, double scale, boolean log) {
        requireFloating(x, "softmax");
        double[][] rows = rows(x);
        for (double[] r : rows) {
            double max = Double.NEGATIVE_INFINITY;
            for (double v : r) max = Math.max(max, scale * v);
            double sum = 0;
            for (double v : r) sum += Math.exp(scale * v - max);
            double logSum = Math.log(sum);
            for (int j = 0; j < r.length; j++) {
                double z = scale * r[j] - max;
                r[j] = log ? z - logSum : Math.exp(z) / sum;
            }
        }
        return fromRows(x.dtype(), x.shape(), rows);
    }

    @Override
    public Tensor softmaxBackward(Tensor y, Tensor dy, double scale, boolean log) {
        double[][] ys = rows(y), gs = rows(dy.expand(y.shape()));
        for (int i = 0; i < ys.length; i++) {
            double[] yr = ys[i], gr = gs[i];
            double dot = 0;
            for (int j = 0; j < yr.length; j++) dot += log ? gr[j] : gr[j] * yr[j];
            for (int j = 0; j < yr.length; j++) {
                gr[j] = log ? scale * (gr[j] - Math.exp(yr[j]) * dot) : scale * yr[j] * (gr[j] - dot);
            }
        }
        return fromRows(y.dtype(), y.shape(), gs);
    }

    @Override
    public LayerNormResult layerNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        int len = x.shape(-1);
        double[][] rows = rows(x);
        double[] w = weight == null ? null : weight.toDoubleArray(), b = bias == null ? null : bias.toDoubleArray();
        double[] means = new double[rows.length], rstds = new double[rows.length];
        for (int i = 0; i < rows.length; i++) {
            double[] r = rows[i];
            double mean = 0;
            for (double v : r) mean += v;
            mean /= len;
            double var = 0;
            for (double v : r) var += (v - mean) * (v - mean);
            var /= len;
            double rstd = 1.0 / Math.sqrt(var + eps);
            for (int j = 0; j < len; j++) {
                double xhat = (r[j] - mean) * rstd;
                r[j] = xhat * (w == null ? 1 : w[j]) + (b == null ? 0 : b[j]);
            }
            means[i] = mean;
            rstds[i] = rstd;
        }
        int[] rowShape = java.util.Arrays.copyOf(x.shape(), x.rank() - 1);
        return new LayerNormResult(fromRows(x.dtype(), x.shape(), rows),
                Tensor.of(x.dtype(), means, rowShape), Tensor.of(x.dtype(), rstds, rowShape));
    }

    @Override
    public Tensor[] layerNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, boolean withBias) {
        int len = x.shape(-1);
        double[][] xs = rows(x), gs = rows(dy.expand(x.shape()));
        double[] means = mean.toDoubleArray(), rstds = rstd.toDoubleArray();
        double[] w = weight == null ? null : weight.toDoubleArray();
        double[] dw = new double[len], db = new double[len];
        for (int i = 0; i < xs.length; i++) {
            double[] xr = xs[i], gr = gs[i];
            double sumG = 0, sumGX = 0;
            for (int j = 0; j < len; j++) {
                double xhat = (xr[j] - means[i]) * rstds[i];
                double g = gr[j] * (w == null ? 1 : w[j]);
                dw[j] += gr[j] * xhat;
                db[j] += gr[j];
                sumG += g;
                sumGX += g * xhat;
                xr[j] = xhat;
            }
            for (int j = 0; j < len; j++) {
                double g = gr[j] * (w == null ? 1 : w[j]);
                gr[j] = rstds[i] * (g - sumG / len - xr[j] * sumGX / len);
            }
        }
        Tensor dx = fromRows(x.dtype(), x.shape(), gs);
        Tensor dW = weight == null ? null : Tensor.of(x.dtype(), dw, len);
        Tensor dB = withBias ? Tensor.of(x.dtype(), db, len) : null;
        return new Tensor[] {dx, dW, dB};
    }

    @Override
    public Tensor l2Normalize(Tensor x, double eps) {
        requireFloating(x, "l2_normalize");
        double[][] rows = rows(x);
        for (double[] r : rows) {
            double ss = 0;
            for (double v : r) ss += v * v;
            double d = Math.max(Math.sqrt(ss), eps);
            for (int j = 0; j < r.length; j++) r[j] /= d;
        }
        return fromRows(x.dtype(), x.shape(), rows);
    }

    @Override
    public Tensor l2NormalizeBackward(Tensor x, Tensor dy, double eps) {
        double[][] xs = rows(x), gs = rows(dy.expand(x.shape()));
        for (int i = 0; i < xs.length; i++) {
            double[] xr = xs[i], gr = gs[i];
            double ss = 0;
            for (double v : xr) ss += v * v;
            double norm = Math.sqrt(ss);
            if (norm > eps) {
                double dot = 0;
                for (int j = 0; j < xr.length; j++) dot += gr[j] * xr[j];
                for (int j = 0; j < xr.length; j++) gr[j] = (gr[j] - xr[j] * dot / (norm * norm)) / norm;
            } else {
                for (int j = 0; j < xr.length; j++) gr[j] /= eps;
            }
        }
        return fromRows(x.dtype(), x.shape(), gs);
    }

    /** Parameter by parameter, in order. */
    @Override
    public void adamw(List<AdamWParameter> params, AdamWStep s) {
        for (AdamWParameter e : params) adamw(e.param(), e.grad(), e.m(), e.v(), s.forParameter(e.decays()));
    }

    @Override
    public AttentionResult attention(AttentionPlan plan) {
        return ReferenceAttention.forward(plan);
    }

    @Override
    public void attentionBackward(AttentionPlan plan, Tensor out, Tensor lse, Tensor dOut, Tensor dq, Tensor dk, Tensor dv) {
        ReferenceAttention.backward(this, plan, dOut, dq, dk, dv);
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep s) {
        HostStorage p = host(param), g = host(grad), hm = host(m), hv = host(v);
        int[] op = StridedIndex.offsets(param), og = StridedIndex.offsets(grad), om = StridedIndex.offsets(m), ov = StridedIndex.offsets(v);
        double bc1 = 1 - Math.pow(s.beta1(), s.step()), bc2 = 1 - Math.pow(s.beta2(), s.step());
        double stepSize = s.lr() / bc1, bc2Sqrt = Math.sqrt(bc2);
        for (int i = 0; i < op.length; i++) {
            double pi = p.get(op[i]) * (1 - s.lr() * s.weightDecay());
            double gi = g.get(og[i]);
            double mi = s.beta1() * hm.get(om[i]) + (1 - s.beta1()) * gi;
            double vi = s.beta2() * hv.get(ov[i]) + (1 - s.beta2()) * gi * gi;
            double denom = Math.sqrt(vi) / bc2Sqrt + s.eps();
            p.set(op[i], pi - stepSize * mi / denom);
            hm.set(om[i], mi);
            hv.set(ov[i], vi);
        }
    }
}
