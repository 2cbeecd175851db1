/*
 * The machine's FMA peak for bench/vit-vs-djl.sh: T threads, each running 12 independent chains
 * of fused multiply-adds on registers (no memory traffic), so the figure is the FMA units'
 * throughput: 12 chains cover the FMA latency times the number of FMA pipes on current x86
 * cores (4 cycles x 2 pipes = 8 in flight). Both vector widths are measured, 256-bit (AVX2/FMA3)
 * and 512-bit (AVX-512F); the larger is the peak the ViT figures are divided by, since irtj's
 * Vector API kernels and libtorch's oneDNN/MKL both use 512-bit vectors where the CPU has them.
 *
 * FLOPs counted: 2 per lane per FMA (one multiply, one add). Each thread's rate is its FLOPs
 * over its own CPU time (CLOCK_THREAD_CPUTIME_ID), and the threads' rates are added: on a shared
 * machine whose other processes take turns on the cores, wall-clock time would measure the
 * scheduler, CPU time measures the core. (Two threads on the two hyperthreads of one core share
 * its FMA pipes, and their CPU-time rates show it.) The wall-clock figure is printed beside it.
 * Build: gcc -O2 -mavx512f -mfma -pthread fma_peak.c -o fma_peak
 * Usage: fma_peak THREADS [SECONDS=0.5]; prints one line:
 *   threads=T avx2_gflops=... avx512_gflops=... peak_gflops=... wall_avx512_gflops=...
 *   (CPU-time rates, the best of 3 runs each; peak = the larger width)
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct {
    long iters;
    int wide;
    float sink;
    double cpu_seconds;
    pthread_barrier_t *start;
} job;

#define CHAINS12(T, FMA, A, B)                                                     \
    FMA(a0, A, B); FMA(a1, A, B); FMA(a2, A, B); FMA(a3, A, B); FMA(a4, A, B);      \
    FMA(a5, A, B); FMA(a6, A, B); FMA(a7, A, B); FMA(a8, A, B); FMA(a9, A, B);      \
    FMA(a10, A, B); FMA(a11, A, B)

#define FMA256(acc, x, y) acc = _mm256_fmadd_ps(acc, x, y)
#define FMA512(acc, x, y) acc = _mm512_fmadd_ps(acc, x, y)

static void *run(void *arg) {
    job *j = arg;
    pthread_barrier_wait(j->start);
    double c0 = cpu_now();
    if (j->wide) {
        /* Values stay bounded: acc = acc * 0.999999 + 1e-7 converges, never overflows. */
        __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
        __m512 a0 = _mm512_set1_ps(1.0f), a1 = _mm512_set1_ps(1.1f), a2 = _mm512_set1_ps(1.2f), a3 = _mm512_set1_ps(1.3f),
               a4 = _mm512_set1_ps(1.4f), a5 = _mm512_set1_ps(1.5f), a6 = _mm512_set1_ps(1.6f), a7 = _mm512_set1_ps(1.7f),
               a8 = _mm512_set1_ps(1.8f), a9 = _mm512_set1_ps(1.9f), a10 = _mm512_set1_ps(2.0f), a11 = _mm512_set1_ps(2.1f);
        for (long i = 0; i < j->iters; i++) {
            CHAINS12(__m512, FMA512, m, c);
        }
        __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                                 _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
        s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
        j->sink = _mm512_reduce_add_ps(s);
    } else {
        __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
        __m256 a0 = _mm256_set1_ps(1.0f), a1 = _mm256_set1_ps(1.1f), a2 = _mm256_set1_ps(1.2f), a3 = _mm256_set1_ps(1.3f),
               a4 = _mm256_set1_ps(1.4f), a5 = _mm256_set1_ps(1.5f), a6 = _mm256_set1_ps(1.6f), a7 = _mm256_set1_ps(1.7f),
               a8 = _mm256_set1_ps(1.8f), a9 = _mm256_set1_ps(1.9f), a10 = _mm256_set1_ps(2.0f), a11 = _mm256_set1_ps(2.1f);
        for (long i = 0; i < j->iters; i++) {
            CHAINS12(__m256, FMA256, m, c);
        }
        __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                                 _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
        s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
        float v[8];
        _mm256_storeu_ps(v, s);
        j->sink = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
    }
    j->cpu_seconds = cpu_now() - c0;
    return NULL;
}

/* GFLOP/s (sum of the threads' CPU-time rates; *wall gets the wall-clock rate) of `threads`
   threads running `iters` iterations of 12 FMAs each. */
static double gflops(int threads, int wide, long iters, float *sink, double *wall) {
    pthread_t t[64];
    job jobs[64];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, threads + 1);
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job){iters, wide, 0, 0, &start};
        pthread_create(&t[i], NULL, run, &jobs[i]);
    }
    pthread_barrier_wait(&start);
    double t0 = now();
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    double s = now() - t0;
    pthread_barrier_destroy(&start);
    double per_thread = 2.0 * (wide ? 16 : 8) * 12 * (double)iters / 1e9, rate = 0;
    for (int i = 0; i < threads; i++) {
        *sink += jobs[i].sink;
        rate += per_thread / jobs[i].cpu_seconds;
    }
    *wall = per_thread * threads / s;
    return rate;
}

static double best(int threads, int wide, double seconds, float *sink, double *best_wall) {
    long iters = 1000000;
    double wall;
    /* Size the run to about `seconds` of CPU time from a short one. */
    double g = gflops(1, wide, iters, sink, &wall);
    iters = (long)(seconds * g * 1e9 / (2.0 * (wide ? 16 : 8) * 12));
    if (iters < 1000000) iters = 1000000;
    double b = 0;
    *best_wall = 0;
    for (int r = 0; r < 3; r++) {
        double v = gflops(threads, wide, iters, sink, &wall);
        if (v > b) b = v;
        if (wall > *best_wall) *best_wall = wall;
    }
    return b;
}

int main(int argc, char **argv) {
    if (argc < 2 || atoi(argv[1]) < 1 || atoi(argv[1]) > 64) {
        fprintf(stderr, "usage: fma_peak THREADS(1-64) [SECONDS=0.5]\n");
        return 2;
    }
    int threads = atoi(argv[1]);
    double seconds = argc > 2 ? atof(argv[2]) : 0.5;
    float sink = 0;
    double wall2, wall512;
    double avx2 = best(threads, 0, seconds, &sink, &wall2), avx512 = best(threads, 1, seconds, &sink, &wall512);
    printf("threads=%d avx2_gflops=%.1f avx512_gflops=%.1f peak_gflops=%.1f wall_avx2_gflops=%.1f wall_avx512_gflops=%.1f sink=%.3g\n",
           threads, avx2, avx512, avx2 > avx512 ? avx2 : avx512, wall2, wall512, sink);
    return 0;
}
