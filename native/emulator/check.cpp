// Host emulation check of the kernel families' indexing and reductions (see cuda_shim.h): each
// kernel runs on small odd-sized inputs with several blocks and warps, and its output is compared
// with a plain loop written here from the CPU reference's definition (ReferenceBackend), in F64
// to 1e-12 relative (F32 GEMM to 1e-5). Run by run.sh; prints one line per check, exits 1 on a
// mismatch.
#include <cstdio>
#include <functional>
#include <random>
#include <string>

#include "../src/cuda/gemm.cuh"

extern "C" {
void irtj_softmax_forward_f64(const double*, double*, int, double, int);
void irtj_softmax_backward_f64(const double*, const double*, double*, int, double, int);
void irtj_layernorm_forward_f64(const double*, const double*, const double*, double*, double*, double*, int, double);
void irtj_layernorm_backward_input_f64(const double*, const double*, const double*, const double*, const double*, double*, int);
void irtj_layernorm_backward_params_partial_f64(const double*, const double*, const double*, const double*, int, int, int, double*, double*);
void irtj_layernorm_backward_params_finish_f64(const double*, const double*, int, int, double*, double*);
void irtj_l2_forward_f64(const double*, double*, int, double);
void irtj_l2_backward_f64(const double*, const double*, double*, int, double);
void irtj_reduce_rows_f64(int, const double*, double*, int);
void irtj_sum_columns_partial_f64(const double*, int, int, int, double*);
void irtj_sum_columns_finish_f64(const double*, int, int, double, double*);
void irtj_arg_reduce_rows_f64(int, const double*, long long*, int);
void irtj_topk_rows_f64(const double*, int, int, double*, long long*);
void irtj_gemm_f64(GemmArgs, const double*, const double*, const double*, double*, double, double);
void irtj_gemm_f32(GemmArgs, const float*, const float*, const float*, float*, double, double);
void irtj_gemm_tf32(GemmArgs, const float*, const float*, const float*, float*, double, double);
void irtj_gemm_splitk_f64(GemmArgs, int, const double*, const double*, double*);
void irtj_gemm_splitk_f32(GemmArgs, int, const float*, const float*, float*);
void irtj_gemm_tf32_splitk(GemmArgs, int, const float*, const float*, float*);
void irtj_gemm_splitk_reduce_f64(GemmArgs, int, const double*, const double*, double*, double, double);
void irtj_gemm_splitk_reduce_f32(GemmArgs, int, const float*, const float*, float*, double, double);
void irtj_index_add_f64(Strided, int, const long long*, Strided, int, const double*, Strided, double*, int, long long*);
void irtj_scatter_add_f64(Strided, int, const long long*, Strided, const double*, Strided, double*, int, long long*);
void irtj_gather_f64(const double*, Strided, int, int, const long long*, Strided, double*, int, long long*);
void irtj_index_select_f64(const double*, Strided, int, int, const long long*, Strided, double*, int, long long*);
void irtj_binary_f64(int, const double*, Strided, const double*, Strided, double*, int);
void irtj_copy_f64_to_f32(float*, Strided, const double*, Strided, int);
}

static int failures = 0;
static std::mt19937_64 rng(42);

static std::vector<double> randn(size_t n) {
    std::normal_distribution<double> d;
    std::vector<double> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

static void expect(const std::string& what, const std::vector<double>& want, const std::vector<double>& got, double rtol, double atol = 1e-12) {
    for (size_t i = 0; i < want.size(); i++) {
        bool ok = std::isnan(want[i]) ? std::isnan(got[i]) : std::fabs(want[i] - got[i]) <= atol + rtol * std::fabs(want[i]);
        if (!ok) {
            std::printf("FAIL %s: element %zu expected %.17g got %.17g\n", what.c_str(), i, want[i], got[i]);
            failures++;
            return;
        }
    }
    std::printf("ok   %s (%zu values)\n", what.c_str(), want.size());
}

static Strided strided(std::vector<int> shape, std::vector<int> strides, int offset) {
    Strided s{};
    s.rank = (int) shape.size();
    for (size_t d = 0; d < shape.size(); d++) {
        s.shape[d] = shape[d];
        s.stride[d] = strides[d];
    }
    s.offset = offset;
    return s;
}

static Strided contiguous(std::vector<int> shape) {
    std::vector<int> st(shape.size());
    int s = 1;
    for (int d = (int) shape.size() - 1; d >= 0; d--) {
        st[d] = s;
        s *= shape[d];
    }
    return strided(shape, st, 0);
}

static dim3 g1(unsigned x, unsigned y = 1, unsigned z = 1) { return dim3{x, y, z}; }

static void rows_checks(int rows, int n, unsigned threads) {
    std::string tag = " rows=" + std::to_string(rows) + " n=" + std::to_string(n) + " threads=" + std::to_string(threads);
    auto x = randn(rows * n), dy = randn(rows * n), w = randn(n), b = randn(n);
    double scale = 0.7;
    for (int log_form = 0; log_form < 2; log_form++) {
        std::vector<double> y(rows * n), want(rows * n), dx(rows * n), wantdx(rows * n);
        emu::launch(g1(rows), g1(threads), [&] { irtj_softmax_forward_f64(x.data(), y.data(), n, scale, log_form); });
        for (int r = 0; r < rows; r++) {
            double mx = -INFINITY, sum = 0;
            for (int j = 0; j < n; j++) mx = std::max(mx, scale * x[r * n + j]);
            for (int j = 0; j < n; j++) sum += std::exp(scale * x[r * n + j] - mx);
            for (int j = 0; j < n; j++) {
                double z = scale * x[r * n + j] - mx;
                want[r * n + j] = log_form ? z - std::log(sum) : std::exp(z) / sum;
            }
            double dot = 0;
            for (int j = 0; j < n; j++) dot += log_form ? dy[r * n + j] : dy[r * n + j] * want[r * n + j];
            for (int j = 0; j < n; j++) {
                double yj = want[r * n + j], g = dy[r * n + j];
                wantdx[r * n + j] = log_form ? scale * (g - std::exp(yj) * dot) : scale * yj * (g - dot);
            }
        }
        expect("softmax log=" + std::to_string(log_form) + tag, want, y, 1e-12);
        emu::launch(g1(rows), g1(threads), [&] { irtj_softmax_backward_f64(want.data(), dy.data(), dx.data(), n, scale, log_form); });
        expect("softmax backward log=" + std::to_string(log_form) + tag, wantdx, dx, 1e-10, 1e-12);
    }
    // Layer norm.
    std::vector<double> y(rows * n), mean(rows), rstd(rows), want(rows * n), wm(rows), wr(rows);
    emu::launch(g1(rows), g1(threads), [&] { irtj_layernorm_forward_f64(x.data(), w.data(), b.data(), y.data(), mean.data(), rstd.data(), n, 1e-6); });
    std::vector<double> wdx(rows * n), wdw(n, 0), wdb(n, 0);
    for (int r = 0; r < rows; r++) {
        double m = 0, v = 0;
        for (int j = 0; j < n; j++) m += x[r * n + j];
        m /= n;
        for (int j = 0; j < n; j++) v += (x[r * n + j] - m) * (x[r * n + j] - m);
        v /= n;
        double rs = 1 / std::sqrt(v + 1e-6);
        wm[r] = m;
        wr[r] = rs;
        double sg = 0, sgx = 0;
        for (int j = 0; j < n; j++) {
            double xh = (x[r * n + j] - m) * rs;
            want[r * n + j] = xh * w[j] + b[j];
            double g = dy[r * n + j] * w[j];
            sg += g;
            sgx += g * xh;
            wdw[j] += dy[r * n + j] * xh;
            wdb[j] += dy[r * n + j];
        }
        for (int j = 0; j < n; j++) {
            double xh = (x[r * n + j] - m) * rs;
            wdx[r * n + j] = rs * (dy[r * n + j] * w[j] - sg / n - xh * sgx / n);
        }
    }
    expect("layer norm y" + tag, want, y, 1e-12);
    expect("layer norm mean" + tag, wm, mean, 1e-12);
    expect("layer norm rstd" + tag, wr, rstd, 1e-12);
    std::vector<double> dx(rows * n);
    emu::launch(g1(rows), g1(threads), [&] { irtj_layernorm_backward_input_f64(dy.data(), x.data(), w.data(), mean.data(), rstd.data(), dx.data(), n); });
    expect("layer norm dx" + tag, wdx, dx, 1e-10, 1e-12);
    int chunks = std::min(rows, 4), chunk_rows = (rows + chunks - 1) / chunks;
    chunks = (rows + chunk_rows - 1) / chunk_rows;
    std::vector<double> pw(chunks * n), pb(chunks * n), dw(n), db(n);
    emu::launch(g1((n + 31) / 32, chunks), g1(32), [&] {
        irtj_layernorm_backward_params_partial_f64(dy.data(), x.data(), mean.data(), rstd.data(), rows, n, chunk_rows, pw.data(), pb.data());
    });
    emu::launch(g1(2), g1(32), [&] { irtj_layernorm_backward_params_finish_f64(pw.data(), pb.data(), chunks, n, dw.data(), db.data()); });
    expect("layer norm dweight" + tag, wdw, dw, 1e-10, 1e-12);
    expect("layer norm dbias" + tag, wdb, db, 1e-10, 1e-12);
    // L2 normalize.
    std::vector<double> l2(rows * n), wl2(rows * n), l2dx(rows * n), wl2dx(rows * n);
    for (int r = 0; r < rows; r++) {
        double ss = 0, dot = 0;
        for (int j = 0; j < n; j++) ss += x[r * n + j] * x[r * n + j], dot += dy[r * n + j] * x[r * n + j];
        double norm = std::sqrt(ss);
        for (int j = 0; j < n; j++) {
            wl2[r * n + j] = x[r * n + j] / std::max(norm, 1e-12);
            wl2dx[r * n + j] = (dy[r * n + j] - x[r * n + j] * dot / (norm * norm)) / norm;
        }
    }
    emu::launch(g1(rows), g1(threads), [&] { irtj_l2_forward_f64(x.data(), l2.data(), n, 1e-12); });
    expect("l2" + tag, wl2, l2, 1e-12);
    emu::launch(g1(rows), g1(threads), [&] { irtj_l2_backward_f64(x.data(), dy.data(), l2dx.data(), n, 1e-12); });
    expect("l2 backward" + tag, wl2dx, l2dx, 1e-10, 1e-12);
    // Row reductions (with a NaN in row 1 and a tie in row 0), arg-reductions, top-k.
    auto xr = x;
    for (auto& v : xr) v = std::round(v * 2);
    if (rows > 1) xr[n + n / 2] = NAN;
    for (int op = 0; op < 4; op++) {
        std::vector<double> out(rows), w(rows);
        for (int r = 0; r < rows; r++) {
            double acc = op == 2 ? -INFINITY : op == 3 ? INFINITY : 0;
            for (int j = 0; j < n; j++) {
                double v = xr[r * n + j];
                if (op < 2) acc += v;
                else if (op == 2) acc = ((v > acc || std::isnan(v)) && !std::isnan(acc)) ? v : acc;
                else acc = ((v < acc || std::isnan(v)) && !std::isnan(acc)) ? v : acc;
            }
            w[r] = op == 1 ? acc / n : acc;
        }
        emu::launch(g1(rows), g1(threads), [&] { irtj_reduce_rows_f64(op, xr.data(), out.data(), n); });
        expect("reduce op " + std::to_string(op) + tag, w, out, 1e-12);
    }
    for (int op = 2; op < 4; op++) {
        std::vector<long long> idx(rows);
        std::vector<double> w(rows), got(rows);
        for (int r = 0; r < rows; r++) {
            int best = 0;
            double bv = xr[r * n];
            for (int j = 1; j < n && !std::isnan(bv); j++) {
                double v = xr[r * n + j];
                if ((op == 2 ? v > bv : v < bv) || std::isnan(v)) best = j, bv = v;
            }
            w[r] = best;
        }
        emu::launch(g1(rows), g1(threads), [&] { irtj_arg_reduce_rows_f64(op, xr.data(), idx.data(), n); });
        for (int r = 0; r < rows; r++) got[r] = (double) idx[r];
        expect("arg op " + std::to_string(op) + tag, w, got, 0, 0);
    }
    auto xt = x;
    for (auto& v : xt) v = std::round(v * 2);
    // NaN goes after every number (TopKPlan's order): a few NaNs, in the first row's top when n is small.
    for (int r = 0; r < rows; r += 2) xt[r * n + (r * 7) % n] = NAN;
    int k = std::min(n, 7);
    std::vector<double> tv(rows * k), wtv(rows * k), ti(rows * k), wti(rows * k);
    std::vector<long long> tidx(rows * k);
    for (int r = 0; r < rows; r++) {
        std::vector<int> order(n);
        for (int j = 0; j < n; j++) order[j] = j;
        std::stable_sort(order.begin(), order.end(), [&](int a, int c) {
            double va = xt[r * n + a], vc = xt[r * n + c];
            if (std::isnan(va) || std::isnan(vc)) return !std::isnan(va) && std::isnan(vc);
            return va > vc;
        });
        for (int j = 0; j < k; j++) wtv[r * k + j] = xt[r * n + order[j]], wti[r * k + j] = order[j];
    }
    emu::launch(g1(rows), g1(threads), [&] { irtj_topk_rows_f64(xt.data(), n, k, tv.data(), tidx.data()); });
    for (size_t i = 0; i < tidx.size(); i++) ti[i] = (double) tidx[i];
    expect("topk values" + tag, wtv, tv, 0, 0);
    expect("topk indices" + tag, wti, ti, 0, 0);
    // Column sums over the leading rows.
    std::vector<double> part(chunks * n), cs(n), wcs(n, 0);
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < n; j++) wcs[j] += x[r * n + j] / rows;
    emu::launch(g1((n + 31) / 32, chunks), g1(32), [&] { irtj_sum_columns_partial_f64(x.data(), rows, n, chunk_rows, part.data()); });
    emu::launch(g1(1), g1(64), [&] { irtj_sum_columns_finish_f64(part.data(), chunks, n, rows, cs.data()); });
    expect("column mean" + tag, wcs, cs, 1e-10, 1e-12);
}

// op(A)[b][i][p] = A[...], with A stored transposed when ta, B broadcast over the batch. The
// product runs as one kernel, or with split-K (k_chunk > 0): the partial kernel over
// gridDim.z = batch · splits, then the reduction, as CudaBackend launches them.
template <typename T>
using GemmKernel = void (*)(GemmArgs, const T*, const T*, const T*, T*, double, double);
template <typename T>
using SplitKernel = void (*)(GemmArgs, int, const T*, const T*, T*);
template <typename T>
using ReduceKernel = void (*)(GemmArgs, int, const T*, const T*, T*, double, double);

template <typename T>
static void gemm_run(const char* name, int batch, int m, int k, int n, bool ta, bool tb, bool bias, GemmKernel<T> kernel,
                     SplitKernel<T> split, ReduceKernel<T> reduce, int k_chunk, double rtol) {
    auto av = randn(batch * m * k + 3), bv = randn(k * n), cv = randn(n);
    std::vector<T> a(av.begin(), av.end()), b(bv.begin(), bv.end()), c(cv.begin(), cv.end()), out(batch * m * n);
    GemmArgs g{};
    g.m = m, g.n = n, g.k = k, g.batch = batch;
    g.a_off = 3, g.a_rs = ta ? 1 : k, g.a_cs = ta ? m : 1, g.a_bs = m * k;
    g.b_off = 0, g.b_rs = tb ? 1 : n, g.b_cs = tb ? k : 1, g.b_bs = 0;
    g.c_off = 0, g.c_rs = 0, g.c_cs = 1, g.c_bs = 0;
    double alpha = 0.75, beta = bias ? -1.25 : 0;
    std::vector<double> want(batch * m * n), got(batch * m * n);
    for (int bi = 0; bi < batch; bi++)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double) a[g.a_off + bi * g.a_bs + i * g.a_rs + p * g.a_cs] * (double) b[p * g.b_rs + j * g.b_cs];
                want[(bi * m + i) * n + j] = alpha * s + (bias ? beta * (double) c[j] : 0);
            }
    int splits = k_chunk > 0 ? (k + k_chunk - 1) / k_chunk : 0;
    if (splits == 0) {
        emu::launch(g1((n + 127) / 128, (m + 127) / 128, batch), g1(256), [&] {
            kernel(g, a.data(), b.data(), bias ? c.data() : nullptr, out.data(), alpha, beta);
        });
    } else {
        // NaN-filled, so a partial the first pass forgets to write fails the check.
        std::vector<T> partial((size_t) splits * batch * m * n, T(NAN));
        emu::launch(g1((n + 127) / 128, (m + 127) / 128, batch * splits), g1(256), [&] {
            split(g, k_chunk, a.data(), b.data(), partial.data());
        });
        emu::launch(g1(3), g1(64), [&] {
            reduce(g, splits, partial.data(), bias ? c.data() : nullptr, out.data(), alpha, beta);
        });
    }
    for (size_t i = 0; i < got.size(); i++) got[i] = out[i];
    char tag[160];
    std::snprintf(tag, sizeof tag, "%s batch=%d m=%d k=%d n=%d ta=%d tb=%d bias=%d%s", name, batch, m, k, n, ta, tb, bias,
                  splits ? (" split-K " + std::to_string(splits) + "x" + std::to_string(k_chunk)).c_str() : "");
    expect(tag, want, got, rtol, rtol * k);
}

template <typename T>
static void gemm_check(const char* name, int batch, int m, int k, int n, bool ta, bool tb, bool bias, GemmKernel<T> kernel,
                       double rtol) {
    gemm_run<T>(name, batch, m, k, n, ta, tb, bias, kernel, nullptr, nullptr, 0, rtol);
}

template <typename T>
static void splitk_check(const char* name, int batch, int m, int k, int n, bool ta, bool tb, bool bias, SplitKernel<T> split,
                         ReduceKernel<T> reduce, int k_chunk, double rtol) {
    gemm_run<T>(name, batch, m, k, n, ta, tb, bias, nullptr, split, reduce, k_chunk, rtol);
}

static void gemm_checks() {
    gemm_check<double>("gemm f64", 2, 130, 9, 131, true, false, true, irtj_gemm_f64, 1e-12);
    gemm_check<double>("gemm f64", 1, 7, 33, 3, false, true, false, irtj_gemm_f64, 1e-12);
    gemm_check<float>("gemm f32", 3, 17, 20, 129, false, false, true, irtj_gemm_f32, 1e-5);
    gemm_check<float>("gemm f32", 1, 129, 8, 5, true, true, true, irtj_gemm_f32, 1e-5);
    // TF32 rounds each operand to 11 significant bits: 2e-3 relative, 4e-3·K absolute here.
    gemm_check<float>("gemm tf32", 2, 130, 20, 131, true, false, true, irtj_gemm_tf32, 2e-3);
    gemm_check<float>("gemm tf32", 1, 17, 33, 129, false, true, false, irtj_gemm_tf32, 2e-3);
    // Split-K: chunks that are multiples of 16 (CudaGemm's rule), a short last slice, batches
    // and both transposes.
    splitk_check<double>("gemm f64", 2, 37, 100, 19, true, true, true, irtj_gemm_splitk_f64, irtj_gemm_splitk_reduce_f64, 32, 1e-12);
    splitk_check<float>("gemm f32", 1, 130, 210, 131, false, false, true, irtj_gemm_splitk_f32, irtj_gemm_splitk_reduce_f32, 48, 1e-5);
    splitk_check<float>("gemm f32", 3, 9, 70, 40, true, true, false, irtj_gemm_splitk_f32, irtj_gemm_splitk_reduce_f32, 16, 1e-5);
    splitk_check<float>("gemm tf32", 1, 130, 100, 131, true, true, true, irtj_gemm_tf32_splitk, irtj_gemm_splitk_reduce_f32, 32, 2e-3);
    splitk_check<float>("gemm tf32", 2, 17, 64, 33, false, false, false, irtj_gemm_tf32_splitk, irtj_gemm_splitk_reduce_f32, 16, 2e-3);
}

// err[0] holds the bad index's position + 1 (0: none), err[1] its value.
static void expect_slot(const char* what, const long long* err, long long position, long long value) {
    long long want0 = value == 0 && position == 0 ? 0 : position + 1;
    if (err[0] != want0 || (want0 != 0 && err[1] != value)) {
        std::printf("FAIL %s: error slot {%lld, %lld}, expected {%lld, %lld}\n", what, err[0], err[1], want0, value);
        failures++;
        return;
    }
    std::printf("ok   %s: error slot {%lld, %lld}\n", what, err[0], err[1]);
}

// One bad index (5 or -1 where the bound is 5) per op: the slot must name it, and no element may
// be read or written out of bounds (the vectors are exactly sized, so a stray access would show
// as a crash or a wrong sum under the emulator).
static void bad_index_checks(const std::vector<double>& xv, Strided xs, std::vector<long long> gi) {
    std::vector<long long> idx = {4, 0, 5, 2, 1, 4};
    int len = (int) idx.size();
    Strided is = contiguous({len});
    long long err[2] = {0, 0};
    std::vector<double> sel(4 * len * 3, 7.0);
    emu::launch(g1(2), g1(64), [&] {
        irtj_index_select_f64(xv.data(), strided({4, len, 3}, {1, 4, 20}, 0), 1, 5, idx.data(), is, sel.data(), (int) sel.size(), err);
    });
    expect_slot("index_select, index 5 of bound 5 at 2", err, 2, 5);
    std::vector<double> zeros(3, 0.0), got(3);
    for (int c = 0; c < 3; c++) got[c] = sel[(1 * len + 2) * 3 + c];
    expect("index_select zeroes the rows of a bad index", zeros, got, 0, 0);
    err[0] = err[1] = 0;
    idx[2] = -1;
    std::vector<double> src(4 * len * 3, 1.0), add(4 * 5 * 3);
    emu::launch(g1(1), g1(32), [&] {
        irtj_index_add_f64(contiguous({4, 5, 3}), 1, idx.data(), is, len, src.data(), contiguous({4, len, 3}), add.data(), (int) add.size(), err);
    });
    expect_slot("index_add, index -1 at 2", err, 2, -1);
    std::vector<double> wadd(4 * 5 * 3, 0.0);
    for (int j = 0; j < len; j++)
        if (idx[j] >= 0)
            for (int i = 0; i < 4; i++)
                for (int c = 0; c < 3; c++) wadd[(i * 5 + idx[j]) * 3 + c] += 1.0;
    expect("index_add skips a bad index", wadd, add, 0, 0);
    err[0] = err[1] = 0;
    Strided gis = contiguous({3, 7, 2});
    gi[(1 * 7 + 4) * 2 + 1] = 9;  // position 23
    std::vector<double> ga(gi.size());
    emu::launch(g1(1), g1(32), [&] {
        irtj_gather_f64(xv.data(), strided({3, 7, 2}, {1, 4, 20}, 0), 1, 5, gi.data(), gis, ga.data(), (int) ga.size(), err);
    });
    expect_slot("gather, index 9 at 23", err, 23, 9);
    err[0] = err[1] = 0;
    std::vector<double> sc(4 * 5 * 3), ones(gi.size(), 1.0);
    emu::launch(g1(1), g1(64), [&] {
        irtj_scatter_add_f64(contiguous({4, 5, 3}), 1, gi.data(), gis, ones.data(), contiguous({3, 7, 2}), sc.data(), (int) sc.size(), err);
    });
    expect_slot("scatter_add, index 9 at 23", err, 23, 9);
}

static void index_checks() {
    // x [3, 5, 4] viewed transposed as [4, 5, 3]; index ops along dim 1 (size 5).
    auto xv = randn(60);
    Strided xs = strided({4, 5, 3}, {1, 4, 20}, 0);
    long long err[2] = {0, 0};  // the error slot; must stay clear for good indices
    std::vector<long long> idx = {4, 0, 4, 2, 1, 4};
    int len = (int) idx.size();
    Strided is = contiguous({len});
    std::vector<double> sel(4 * len * 3), want(4 * len * 3);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < len; j++)
            for (int c = 0; c < 3; c++) want[(i * len + j) * 3 + c] = xv[i * 1 + idx[j] * 4 + c * 20];
    Strided xo = strided({4, len, 3}, {1, 4, 20}, 0);
    emu::launch(g1(2), g1(64), [&] { irtj_index_select_f64(xv.data(), xo, 1, 5, idx.data(), is, sel.data(), (int) sel.size(), err); });
    expect("index_select", want, sel, 0, 0);
    std::vector<double> add(4 * 5 * 3), wadd(4 * 5 * 3, 0);
    for (int j = 0; j < len; j++)
        for (int i = 0; i < 4; i++)
            for (int c = 0; c < 3; c++) wadd[(i * 5 + idx[j]) * 3 + c] += want[(i * len + j) * 3 + c];
    emu::launch(g1(1), g1(32), [&] {
        irtj_index_add_f64(contiguous({4, 5, 3}), 1, idx.data(), is, len, want.data(), contiguous({4, len, 3}), add.data(), (int) add.size(), err);
    });
    expect("index_add", wadd, add, 0, 0);
    // gather along dim 1 with an index [3, 7, 2] into x viewed [4, 5, 3].
    std::vector<long long> gi(3 * 7 * 2);
    for (auto& v : gi) v = (long long) (rng() % 5);
    Strided gis = contiguous({3, 7, 2});
    std::vector<double> ga(gi.size()), wga(gi.size());
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 7; j++)
            for (int c = 0; c < 2; c++) wga[(i * 7 + j) * 2 + c] = xv[i + gi[(i * 7 + j) * 2 + c] * 4 + c * 20];
    emu::launch(g1(1), g1(32), [&] { irtj_gather_f64(xv.data(), strided({3, 7, 2}, {1, 4, 20}, 0), 1, 5, gi.data(), gis, ga.data(), (int) ga.size(), err); });
    expect("gather", wga, ga, 0, 0);
    std::vector<double> sc(4 * 5 * 3), wsc(4 * 5 * 3, 0);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 7; j++)
            for (int c = 0; c < 2; c++) wsc[(i * 5 + gi[(i * 7 + j) * 2 + c]) * 3 + c] += wga[(i * 7 + j) * 2 + c];
    emu::launch(g1(1), g1(64), [&] {
        irtj_scatter_add_f64(contiguous({4, 5, 3}), 1, gi.data(), gis, wga.data(), contiguous({3, 7, 2}), sc.data(), (int) sc.size(), err);
    });
    expect("scatter_add", wsc, sc, 1e-15, 0);
    expect_slot("good indices", err, 0, 0);
    bad_index_checks(xv, xs, gi);
    // Broadcast binary: a [4, 5, 3] view minus b [5, 1] broadcast, then a copy to F32.
    auto bv = randn(5);
    std::vector<double> diff(60), wdiff(60);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 5; j++)
            for (int c = 0; c < 3; c++) wdiff[(i * 5 + j) * 3 + c] = xv[i + j * 4 + c * 20] - bv[j];
    emu::launch(g1(1), g1(32), [&] { irtj_binary_f64(1, xv.data(), xs, bv.data(), strided({4, 5, 3}, {0, 1, 0}, 0), diff.data(), 60); });
    expect("binary SUB with broadcast", wdiff, diff, 0, 0);
    std::vector<float> f(60);
    std::vector<double> wf(60), gf(60);
    emu::launch(g1(1), g1(32), [&] { irtj_copy_f64_to_f32(f.data(), contiguous({4, 5, 3}), xv.data(), xs, 60); });
    for (int i = 0; i < 60; i++) wf[i] = (float) xv[(i / 15) + ((i / 3) % 5) * 4 + (i % 3) * 20], gf[i] = f[i];
    expect("copy of a permuted view to F32", wf, gf, 0, 0);
}

// With the argument "gemm", only the GEMM checks (run.sh's second pass, on the plain loads).
int main(int argc, char** argv) {
    bool gemm_only = argc > 1 && std::string(argv[1]) == "gemm";
    if (!gemm_only) {
        rows_checks(5, 70, 64);
        rows_checks(3, 5, 32);
        rows_checks(9, 300, 128);
    }
    gemm_checks();
    if (!gemm_only) index_checks();
    std::printf(failures ? "%d FAILED\n" : "all passed\n", failures);
    return failures ? 1 : 0;
}
