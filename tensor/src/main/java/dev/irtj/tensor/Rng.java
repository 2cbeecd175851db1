package dev.irtj.tensor;

/**
 * The seeded random number generator behind every random tensor, augmentation and sampler:
 * xoshiro256** (Blackman and Vigna, 2018), its 256-bit state seeded from a 64-bit seed by
 * SplitMix64. The algorithm is fully specified here and uses only integer arithmetic and
 * {@link StrictMath}, so a seed gives the same stream on every run, JVM and machine.
 *
 * <ul>
 *   <li>{@link #nextDouble()}: the top 53 bits of the next output, times 2⁻⁵³, in [0, 1).</li>
 *   <li>{@link #nextGaussian()}: Box–Muller on two {@code nextDouble}s (the first one mapped to
 *       (0, 1]); both values of the pair are used in turn.</li>
 *   <li>{@link #nextTruncatedGaussian}: rejection from {@code nextGaussian}.</li>
 * </ul>
 *
 * Not thread-safe: give each thread its own stream with {@link #stream(long, long)}.
 */
public final class Rng {
    private long s0, s1, s2, s3;
    private double spareGaussian;
    private boolean hasSpare;

    public Rng(long seed) {
        long x = seed;
        x += 0x9E3779B97F4A7C15L;
        s0 = mix(x);
        x += 0x9E3779B97F4A7C15L;
        s1 = mix(x);
        x += 0x9E3779B97F4A7C15L;
        s2 = mix(x);
        x += 0x9E3779B97F4A7C15L;
        s3 = mix(x);
    }

    /** An independent generator for stream {@code id} of {@code seed} (e.g. one per worker or epoch). */
    public static Rng stream(long seed, long id) {
        return new Rng(mix(seed ^ mix(id + 0x632BE59BD9B4E019L)));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public long nextLong() {
        long result = Long.rotateLeft(s1 * 5, 7) * 9;
        long t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = Long.rotateLeft(s3, 45);
        return result;
    }

    /** Uniform in [0, 1). */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [0, bound), without modulo bias. */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive, got " + bound);
        long limit = (1L << 32) - ((1L << 32) % bound);
        while (true) {
            long r = nextLong() >>> 32;
            if (r < limit) return (int) (r % bound);
        }
    }

    public boolean nextBoolean() {
        return nextLong() < 0;
    }

    public double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spareGaussian;
        }
        double u1 = 1.0 - nextDouble();
        double u2 = nextDouble();
        double r = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
        double theta = 2.0 * Math.PI * u2;
        spareGaussian = r * StrictMath.sin(theta);
        hasSpare = true;
        return r * StrictMath.cos(theta);
    }

    /** Normal(mean, std) restricted to [a, b] (absolute bounds), by rejection. */
    public double nextTruncatedGaussian(double mean, double std, double a, double b) {
        if (!(a < b)) throw new IllegalArgumentException("truncation bounds [" + a + ", " + b + "] are empty");
        for (int i = 0; i < 10_000; i++) {
            double x = mean + std * nextGaussian();
            if (x >= a && x <= b) return x;
        }
        throw new IllegalArgumentException("truncated normal N(" + mean + ", " + std + ") on [" + a + ", " + b
                + "]: the bounds hold almost none of the distribution's mass");
    }

    /** Fisher–Yates shuffle in place. */
    public void shuffle(int[] a) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** The full state, for checkpoints; {@link #restore} continues the stream exactly. */
    public long[] state() {
        return new long[] {s0, s1, s2, s3, hasSpare ? 1 : 0, Double.doubleToRawLongBits(spareGaussian)};
    }

    public static Rng restore(long[] state) {
        if (state.length != 6) throw new IllegalArgumentException("Rng state needs 6 longs, got " + state.length);
        Rng r = new Rng(0);
        r.s0 = state[0];
        r.s1 = state[1];
        r.s2 = state[2];
        r.s3 = state[3];
        r.hasSpare = state[4] != 0;
        r.spareGaussian = Double.longBitsToDouble(state[5]);
        return r;
    }
}
