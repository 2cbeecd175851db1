package dev.irtj.eval;

import dev.irtj.tensor.Tensor;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * Mean average precision on revisited Oxford and Paris (Radenović et al., CVPR 2018), computed as
 * the revisitop evaluation does.
 *
 * <p>Each query ranks the whole database by similarity (dot product of L2-normalized
 * descriptors; larger first, the smaller database index first at equal similarity). A
 * {@link Protocol} turns a query's {@link GroundTruth} into positives and junk:
 * <ul>
 *   <li>Easy: positives = easy; junk = junk ∪ hard;</li>
 *   <li>Medium: positives = easy ∪ hard; junk = junk;</li>
 *   <li>Hard: positives = hard; junk = junk ∪ easy.</li>
 * </ul>
 * Junk images are removed from the ranking (each positive moves up by the number of junk images
 * ranked before it), and AP is the area under the precision-recall curve by trapezoids: the
 * positive found j-th (0-based) at rank r (0-based, after junk removal) adds
 * {@code (1/P) · (p0 + p1) / 2} with {@code p0 = j / r} ({@code 1} when r = 0) and
 * {@code p1 = (j + 1) / (r + 1)}, where P is the number of positives. Positives that never appear
 * in the ranking add nothing. mAP is the mean over queries that have at least one positive;
 * queries without positives are left out of the mean (their AP is NaN), and when no query has
 * positives mAP is NaN.
 *
 * <p>mP@k is revisitop's: with the positives' 1-based ranks after junk removal and R the rank
 * of the last one, precision@k of a query is (positives at rank ≤ k') / k' with
 * k' = min(k, R), averaged like AP. (So a query with 2 positives at ranks 1 and 2 has
 * precision@10 = 1.)
 *
 * <p>Index lists are read as sets. An image listed both as a positive and as junk under a
 * protocol counts as a positive (revisitop's data has no such overlaps).
 */
public final class RevisitedMap {
    /** The k of mP@k reported by revisitop's example: 1, 5, 10. */
    public static final int[] DEFAULT_KAPPAS = {1, 5, 10};

    /** Query rows × database items per similarity block, at most (64 MiB of floats). */
    private static final int BLOCK_ELEMENTS = 1 << 24;

    private RevisitedMap() {
    }

    /** The three revisited evaluation setups. */
    public enum Protocol {
        EASY, MEDIUM, HARD;

        /** The positives of {@code g} under this protocol, distinct and sorted. */
        public int[] positives(GroundTruth g) {
            return switch (this) {
                case EASY -> union(g.easy());
                case MEDIUM -> union(g.easy(), g.hard());
                case HARD -> union(g.hard());
            };
        }

        /** The junk of {@code g} under this protocol, distinct, sorted, without any positive. */
        public int[] junk(GroundTruth g) {
            int[] j = switch (this) {
                case EASY -> union(g.junk(), g.hard());
                case MEDIUM -> union(g.junk());
                case HARD -> union(g.junk(), g.easy());
            };
            int[] pos = positives(g);
            return Arrays.stream(j).filter(i -> Arrays.binarySearch(pos, i) < 0).toArray();
        }
    }

    /**
     * The evaluation of one protocol.
     *
     * @param protocol         the protocol
     * @param map              mean AP over the queries with positives (NaN when none has)
     * @param aps              AP of every query, NaN for a query without positives
     * @param kappas           the k of mP@k
     * @param meanPrecisionAtK mP@k for each kappa, averaged like {@code map}
     * @param precisionAtK     [query][kappa] precision@k, NaN rows for queries without positives
     * @param evaluatedQueries number of queries with positives
     */
    public record Result(Protocol protocol, double map, double[] aps, int[] kappas, double[] meanPrecisionAtK,
                         double[][] precisionAtK, int evaluatedQueries) {
        /** mP@k for one of {@link #kappas}. */
        public double meanPrecisionAt(int kappa) {
            for (int i = 0; i < kappas.length; i++) if (kappas[i] == kappa) return meanPrecisionAtK[i];
            throw new IllegalArgumentException("mP@" + kappa + " was not computed; kappas are " + Arrays.toString(kappas));
        }

        /** E.g. {@code MEDIUM: mAP 63.21, mP@1 88.57, mP@5 ... (70 queries)}, in percent. */
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(protocol.toString()).append(": mAP ").append(pct(map));
            for (int i = 0; i < kappas.length; i++) sb.append(", mP@").append(kappas[i]).append(' ').append(pct(meanPrecisionAtK[i]));
            return sb.append(" (").append(evaluatedQueries).append(" queries)").toString();
        }

        private static String pct(double v) {
            return String.format(Locale.ROOT, "%.2f", 100 * v);
        }
    }

    /**
     * Ranks the database for every query by descriptor similarity and evaluates one protocol.
     *
     * @param queryDescriptors [Q, D]
     * @param dbDescriptors    [N, D], same device
     * @param gnd              Q ground truths, indices into the database
     * @param kappas           the k of mP@k (each ≥ 1; none for mAP only)
     */
    public static Result evaluate(Tensor queryDescriptors, Tensor dbDescriptors, List<GroundTruth> gnd, Protocol protocol,
                                  int... kappas) {
        Objects.requireNonNull(protocol, "protocol");
        return evaluateAll(queryDescriptors, dbDescriptors, gnd, kappas).get(protocol);
    }

    /** All three protocols from one similarity computation, in the order Easy, Medium, Hard. */
    public static Map<Protocol, Result> evaluateAll(Tensor queryDescriptors, Tensor dbDescriptors, List<GroundTruth> gnd,
                                                    int... kappas) {
        SimilarityBlocks.checkPair(queryDescriptors, dbDescriptors);
        int nd = dbDescriptors.shape(0);
        int block = Math.max(1, Math.min(1024, BLOCK_ELEMENTS / Math.max(1, nd)));
        return evaluateAllBlocked(queryDescriptors, dbDescriptors, gnd, block, kappas);
    }

    /** As {@link #evaluateAll(Tensor, Tensor, List, int...)} with an explicit number of query rows per block. */
    static Map<Protocol, Result> evaluateAllBlocked(Tensor queryDescriptors, Tensor dbDescriptors, List<GroundTruth> gnd,
                                                    int queryBlock, int[] kappas) {
        SimilarityBlocks.checkPair(queryDescriptors, dbDescriptors);
        int nq = queryDescriptors.shape(0), nd = dbDescriptors.shape(0);
        checkGnd(gnd, nq, "queries");
        checkKappas(kappas);
        for (int q = 0; q < nq; q++) {
            int m = gnd.get(q).maxIndex();
            if (m >= nd) {
                throw new IllegalArgumentException("ground truth of query " + q + " names database index " + m
                        + " but the database has " + nd + " descriptors");
            }
        }
        Located[] located = new Located[nq];
        for (int q = 0; q < nq; q++) located[q] = new Located(items(gnd.get(q)));
        // Whole rows (all N items) per block, so each query's ranks come from one pass over its row.
        SimilarityBlocks.forEach(queryDescriptors, dbDescriptors, queryBlock, Math.max(nd, 1), (qs, ql, ds, dl, s, off) -> {
            IntStream rows = IntStream.range(0, ql);
            if ((long) ql * dl >= 1 << 16) rows = rows.parallel();
            rows.forEach(r -> located[qs + r].rankFromSimilarities(s, off + r * dl, dl));
        });
        Map<Protocol, Result> out = new EnumMap<>(Protocol.class);
        for (Protocol p : Protocol.values()) out.put(p, score(located, gnd, p, kappas));
        return out;
    }

    /**
     * Evaluates rankings computed elsewhere (e.g. after re-ranking or query expansion).
     * {@code ranks[q]} lists database indices, best first (revisitop's {@code ranks[:, q]}); it may
     * be truncated, and then positives missing from it add nothing to AP. Indices of the ground
     * truth are not checked against the database size here.
     */
    public static Result fromRanks(int[][] ranks, List<GroundTruth> gnd, Protocol protocol, int... kappas) {
        Objects.requireNonNull(ranks, "ranks");
        Objects.requireNonNull(protocol, "protocol");
        checkGnd(gnd, ranks.length, "rankings");
        checkKappas(kappas);
        Located[] located = new Located[ranks.length];
        for (int q = 0; q < ranks.length; q++) {
            located[q] = new Located(items(gnd.get(q)));
            located[q].rankFromList(Objects.requireNonNull(ranks[q], "ranking of query " + q));
        }
        return score(located, gnd, protocol, kappas);
    }

    /**
     * revisitop's {@code compute_ap}: AP from the sorted 0-based ranks (junk already removed) of
     * the positives that were found, out of {@code positives} in all.
     */
    public static double averagePrecision(int[] ranks, int positives) {
        if (positives < 1) throw new IllegalArgumentException("AP needs at least one positive, got " + positives);
        if (ranks.length > positives) throw new IllegalArgumentException(ranks.length + " ranks for " + positives + " positives");
        double ap = 0, step = 1.0 / positives;
        for (int j = 0; j < ranks.length; j++) {
            int r = ranks[j];
            if (r < j || (j > 0 && r <= ranks[j - 1])) {
                throw new IllegalArgumentException("ranks must be distinct, sorted and non-negative: " + Arrays.toString(ranks));
            }
            double p0 = r == 0 ? 1.0 : (double) j / r;
            double p1 = (double) (j + 1) / (r + 1);
            ap += (p0 + p1) * step / 2;
        }
        return ap;
    }

    // ---- internals ----------------------------------------------------------------------------

    /** A query's ground-truth items (sorted, distinct) and their 0-based ranks (-1: not ranked). */
    private static final class Located {
        final int[] items;
        final int[] rank;

        Located(int[] items) {
            this.items = items;
            this.rank = new int[items.length];
            Arrays.fill(rank, -1);
        }

        int rankOf(int item) {
            int k = Arrays.binarySearch(items, item);
            return k < 0 ? -1 : rank[k];
        }

        void rankFromList(int[] ranking) {
            for (int r = 0; r < ranking.length; r++) {
                int k = Arrays.binarySearch(items, ranking[r]);
                if (k >= 0 && rank[k] < 0) rank[k] = r;
            }
        }

        /**
         * Rank of each item in a full row of similarities without sorting the row: an item's rank
         * is the number of database entries ranking before it. With the items sorted best first,
         * the items an entry ranks before are a suffix of that order, found by binary search; a
         * difference array and a prefix sum then give every rank. O(N log m) for m items.
         */
        void rankFromSimilarities(float[] s, int off, int n) {
            int m = items.length;
            if (m == 0) return;
            Integer[] order = new Integer[m];
            for (int t = 0; t < m; t++) order[t] = t;
            Arrays.sort(order, (a, b) -> {
                float sa = s[off + items[a]], sb = s[off + items[b]];
                return Ranking.before(sa, items[a], sb, items[b]) ? -1 : Ranking.before(sb, items[b], sa, items[a]) ? 1 : 0;
            });
            float[] ks = new float[m];
            int[] ki = new int[m];
            for (int t = 0; t < m; t++) {
                ki[t] = items[order[t]];
                ks[t] = s[off + ki[t]];
            }
            int[] diff = new int[m + 1];
            float lastS = ks[m - 1];
            int lastI = ki[m - 1];
            for (int j = 0; j < n; j++) {
                float sj = s[off + j];
                if (!Ranking.before(sj, j, lastS, lastI)) continue; // ranks after every item
                int lo = 0, hi = m - 1; // smallest t with before(j, item t); exists since t = m-1 qualifies
                while (lo < hi) {
                    int mid = (lo + hi) >>> 1;
                    if (Ranking.before(sj, j, ks[mid], ki[mid])) hi = mid; else lo = mid + 1;
                }
                diff[lo]++;
            }
            int acc = 0;
            for (int t = 0; t < m; t++) {
                acc += diff[t];
                rank[order[t]] = acc;
            }
        }
    }

    private static Result score(Located[] located, List<GroundTruth> gnd, Protocol protocol, int[] kappas) {
        int nq = located.length;
        double[] aps = new double[nq];
        double[][] prs = new double[nq][kappas.length];
        double sumAp = 0;
        double[] sumPr = new double[kappas.length];
        int evaluated = 0;
        for (int q = 0; q < nq; q++) {
            GroundTruth g = gnd.get(q);
            int[] positives = protocol.positives(g);
            if (positives.length == 0) {
                aps[q] = Double.NaN;
                Arrays.fill(prs[q], Double.NaN);
                continue;
            }
            int[] pos = ranksOf(located[q], positives);
            int[] junk = ranksOf(located[q], protocol.junk(g));
            // Remove junk from the ranking: each positive moves up by the junk ranked before it.
            int before = 0;
            for (int p = 0; p < pos.length; p++) {
                while (before < junk.length && junk[before] < pos[p]) before++;
                pos[p] -= before;
            }
            aps[q] = averagePrecision(pos, positives.length);
            int last = pos.length == 0 ? 0 : pos[pos.length - 1] + 1; // 1-based rank of the last positive
            for (int k = 0; k < kappas.length; k++) {
                int kq = Math.min(last, kappas[k]);
                int found = 0;
                for (int r : pos) if (r + 1 <= kq) found++;
                prs[q][k] = kq == 0 ? 0.0 : (double) found / kq;
                sumPr[k] += prs[q][k];
            }
            sumAp += aps[q];
            evaluated++;
        }
        double[] mpr = new double[kappas.length];
        for (int k = 0; k < kappas.length; k++) mpr[k] = evaluated == 0 ? Double.NaN : sumPr[k] / evaluated;
        double map = evaluated == 0 ? Double.NaN : sumAp / evaluated;
        return new Result(protocol, map, aps, kappas.clone(), mpr, prs, evaluated);
    }

    /** Sorted 0-based ranks of those of {@code wanted} that appear in the ranking. */
    private static int[] ranksOf(Located l, int[] wanted) {
        return Arrays.stream(wanted).map(l::rankOf).filter(r -> r >= 0).sorted().toArray();
    }

    private static int[] items(GroundTruth g) {
        return union(g.easy(), g.hard(), g.junk());
    }

    private static int[] union(int[]... lists) {
        return Arrays.stream(lists).flatMapToInt(Arrays::stream).sorted().distinct().toArray();
    }

    private static void checkGnd(List<GroundTruth> gnd, int n, String what) {
        Objects.requireNonNull(gnd, "ground truth");
        if (gnd.size() != n) throw new IllegalArgumentException(gnd.size() + " ground truths for " + n + " " + what);
        for (int q = 0; q < n; q++) Objects.requireNonNull(gnd.get(q), "ground truth of query " + q);
    }

    private static void checkKappas(int[] kappas) {
        Objects.requireNonNull(kappas, "kappas");
        for (int k : kappas) if (k < 1) throw new IllegalArgumentException("mP@k needs k >= 1, got " + k);
    }
}
