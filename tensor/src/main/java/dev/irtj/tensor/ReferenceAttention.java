package dev.irtj.tensor;

/**
 * The reference backend's fused attention: plain loops in double that materialise each
 * (batch, head) block's [N × N] probabilities, exactly the composition the fused kernels replace
 * (scores = scale·q·kᵀ, max-subtracted softmax, ·v; backward dv = pᵀ·dO, dp = dO·vᵀ,
 * ds = p∘(dp − rowsum(p∘dp)), dq = scale·ds·k, dk = scale·dsᵀ·q). Written for clarity: it is the
 * oracle, and the F64 path gradient checks run through.
 */
final class ReferenceAttention {
    private ReferenceAttention() {
    }

    static Backend.AttentionResult forward(AttentionPlan plan) {
        int b = plan.batch(), h = plan.heads(), n = plan.tokens(), hd = plan.headDim();
        DType dtype = plan.q().dtype();
        Tensor out = Tensor.contiguousView(HostStorage.allocate(dtype, b * n * h * hd, false), plan.outShape());
        Tensor lse = Tensor.contiguousView(HostStorage.allocate(dtype, b * h * n, false), plan.lseShape());
        HostStorage o = (HostStorage) out.storage(), l = (HostStorage) lse.storage();
        for (int bi = 0; bi < b; bi++) {
            for (int hi = 0; hi < h; hi++) {
                double[][] q = block(plan.q(), bi, hi), k = block(plan.k(), bi, hi), v = block(plan.v(), bi, hi);
                double[][] p = new double[n][n];
                double[] rowLse = probabilities(q, k, plan.scale(), p);
                for (int i = 0; i < n; i++) {
                    l.set((bi * h + hi) * n + i, rowLse[i]);
                    for (int d = 0; d < hd; d++) {
                        double s = 0;
                        for (int j = 0; j < n; j++) s += p[i][j] * v[j][d];
                        o.set(((bi * n + i) * h + hi) * hd + d, s);
                    }
                }
            }
        }
        return new Backend.AttentionResult(out, lse);
    }

    /**
     * Recomputes the probabilities from q and k (out and lse are not needed by this oracle, which
     * is what makes it an independent check of the fused kernels that do use them).
     */
    static void backward(ReferenceBackend ref, AttentionPlan plan, Tensor dOut, Tensor dqDst, Tensor dkDst, Tensor dvDst) {
        int b = plan.batch(), h = plan.heads(), n = plan.tokens(), hd = plan.headDim();
        double scale = plan.scale();
        DType dtype = plan.q().dtype();
        Tensor dOutHeads = dOut.reshape(b, n, h, hd).transpose(1, 2);      // [B, H, N, hd], a view
        int[] shape = plan.q().shape();
        Tensor dq = Tensor.contiguousView(HostStorage.allocate(dtype, Shape.numel(shape), false), shape);
        Tensor dk = Tensor.contiguousView(HostStorage.allocate(dtype, Shape.numel(shape), false), shape);
        Tensor dv = Tensor.contiguousView(HostStorage.allocate(dtype, Shape.numel(shape), false), shape);
        HostStorage gq = (HostStorage) dq.storage(), gk = (HostStorage) dk.storage(), gv = (HostStorage) dv.storage();
        for (int bi = 0; bi < b; bi++) {
            for (int hi = 0; hi < h; hi++) {
                double[][] q = block(plan.q(), bi, hi), k = block(plan.k(), bi, hi), v = block(plan.v(), bi, hi);
                double[][] go = block(dOutHeads, bi, hi);
                double[][] p = new double[n][n];
                probabilities(q, k, scale, p);
                double[][] ds = new double[n][n];
                for (int i = 0; i < n; i++) {
                    double rowDot = 0;
                    for (int j = 0; j < n; j++) {
                        double dp = 0;
                        for (int d = 0; d < hd; d++) dp += go[i][d] * v[j][d];
                        ds[i][j] = dp;
                        rowDot += p[i][j] * dp;
                    }
                    for (int j = 0; j < n; j++) ds[i][j] = p[i][j] * (ds[i][j] - rowDot);
                }
                int base = (bi * h + hi) * n * hd;
                for (int i = 0; i < n; i++) {
                    for (int d = 0; d < hd; d++) {
                        double sq = 0, sk = 0, sv = 0;
                        for (int j = 0; j < n; j++) {
                            sq += ds[i][j] * k[j][d];
                            sk += ds[j][i] * q[j][d];
                            sv += p[j][i] * go[j][d];
                        }
                        gq.set(base + i * hd + d, scale * sq);
                        gk.set(base + i * hd + d, scale * sk);
                        gv.set(base + i * hd + d, sv);
                    }
                }
            }
        }
        ref.copyInto(dqDst, dq);
        ref.copyInto(dkDst, dk);
        ref.copyInto(dvDst, dv);
    }

    /** p[i] = softmax over j of scale·q[i]·k[j], max-subtracted; returns each row's log-sum-exp. */
    private static double[] probabilities(double[][] q, double[][] k, double scale, double[][] p) {
        int n = q.length;
        double[] lse = new double[n];
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int d = 0; d < q[i].length; d++) s += q[i][d] * k[j][d];
                p[i][j] = scale * s;
                max = Math.max(max, p[i][j]);
            }
            double sum = 0;
            for (int j = 0; j < n; j++) sum += Math.exp(p[i][j] - max);
            for (int j = 0; j < n; j++) p[i][j] = Math.exp(p[i][j] - max) / sum;
            lse[i] = max + Math.log(sum);
        }
        return lse;
    }

    /** The [N × hd] block of batch b, head h of a [B, H, N, hd] view, read into doubles. */
    private static double[][] block(Tensor t, int b, int h) {
        HostStorage s = (HostStorage) t.storage();
        int n = t.shape(2), hd = t.shape(3);
        double[][] r = new double[n][hd];
        int base = t.offset() + b * t.stride(0) + h * t.stride(1);
        for (int i = 0; i < n; i++) for (int d = 0; d < hd; d++) r[i][d] = s.get(base + i * t.stride(2) + d * t.stride(3));
        return r;
    }
}
