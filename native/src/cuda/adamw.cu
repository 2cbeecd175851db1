// One AdamW step in place (PyTorch's rule, decoupled weight decay, bias-corrected moments).
// CPU reference: dev.irtj.tensor.ReferenceBackend.adamw. The step's scalars (1 − β^t etc.) are
// computed on the host in double, so no value crosses back from the device.
#include "common.cuh"

template <typename T>
__device__ void adamw(T* p, const T* g, T* m, T* v, int n, T lr, T beta1, T beta2, T eps, T weight_decay,
                      T step_size, T bc2_sqrt) {
    GRID_STRIDE_LOOP(i, n) {
        T pi = p[i] * (T(1) - lr * weight_decay);
        T gi = g[i];
        T mi = beta1 * m[i] + (T(1) - beta1) * gi;
        T vi = beta2 * v[i] + (T(1) - beta2) * gi * gi;
        T denom = sqrt(vi) / bc2_sqrt + eps;
        p[i] = pi - step_size * mi / denom;
        m[i] = mi;
        v[i] = vi;
    }
}

extern "C" __global__ void irtj_adamw_f32(float* p, const float* g, float* m, float* v, int n, double lr, double beta1,
                                          double beta2, double eps, double weight_decay, double step_size,
                                          double bc2_sqrt) {
    adamw<float>(p, g, m, v, n, (float) lr, (float) beta1, (float) beta2, (float) eps, (float) weight_decay,
                 (float) step_size, (float) bc2_sqrt);
}

extern "C" __global__ void irtj_adamw_f64(double* p, const double* g, double* m, double* v, int n, double lr,
                                          double beta1, double beta2, double eps, double weight_decay,
                                          double step_size, double bc2_sqrt) {
    adamw<double>(p, g, m, v, n, lr, beta1, beta2, eps, weight_decay, step_size, bc2_sqrt);
}
