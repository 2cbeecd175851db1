package dev.irtj.index;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * irtj's HNSW graph construction (Malkov and Yashunin's algorithm) for unit vectors under the
 * dot product, over vectors held in one array (row {@code ord} at {@code ord * dims}).
 *
 * <p>The parameters are Lucene's, FAISS's and hnswlib's: every node draws its top level
 * {@code floor(-ln(U) * ml)} with {@code ml = 1 / ln(M)}; nodes are inserted in ord order, each
 * by a greedy descent from the entry node to its top level, then a beam search of
 * {@code beamWidth} on each of its levels, whose results give its links through the diversity
 * heuristic (a candidate is kept only if it is closer to the new node than to every link
 * kept before it, best first); at most {@code 2M} links on level 0 and {@code M} above. Each
 * new link is added back on the neighbour's side; a neighbour whose list is full is pruned by
 * dropping, of its old links and the new one, the worst that is not diverse (closer to a better
 * link than to the neighbour), or the worst of all when every one is.
 *
 * <p>Why our own and not Lucene's {@code HnswGraphBuilder}: that builder's scoring goes through
 * per-node scorer objects and its graph through object lists, and in a fresh JVM most of an
 * index build was the JIT compiling it. This one is small, allocates nothing per visited node
 * (a visited array of stamps, heaps of packed {@code (score, node)} longs: {@link HnswWalk#key})
 * and keeps every level's links in flat int arrays with their scores beside them.
 *
 * <p>Deterministic: the levels come from a {@link SplittableRandom} of the given seed, heaps
 * break score ties by the lower node, so the same vectors, parameters and seed give the same
 * graph. The entry node is the first node inserted on the top level, hence the lowest ord there
 * (what Lucene's reader takes as the entry).
 */
final class HnswBuilder {
    private final float[] vectors;
    private final int dims;
    private final int size;
    private final int m;
    private final int beamWidth;
    private final int[] topLevel;
    /** Per level: the nodes on it in ord order (level 0: null, every node). */
    private final int[][] nodes;
    /** Per level above 0: node to its row on that level, -1 if absent (level 0: null, the row is the node). */
    private final int[][] rowOf;
    /** Per level: row r's links at [r * cap, r * cap + count[r]), their dot products with r beside them. */
    private final int[][] links;
    private final float[][] sims;
    private final int[][] counts;
    /**
     * Per level and row: whether the row's links are known diverse (each closer to the row's node
     * than to every better link). Then a full list's prune needs only the new link's dot products
     * with the others, not all pairs: at 384-d on random data nearly every list is diverse, and
     * the all-pairs check was ~60% of the build.
     */
    private final boolean[][] diverse;
    private int entry = -1;
    private int maxLevel = -1;

    // Scratch, reused by every insertion.
    private final int[] visited;
    private int stamp;
    /** The beam of {@link #searchLevel}: its keys, best first, and which have been expanded. */
    private final long[] beam;
    private final boolean[] expanded;
    private long[] found = new long[16];
    private final int[] pickNodes;
    private final float[] pickSims;
    private final int[] addNodes;
    private final float[] addSims;
    private final long[] pruneKeys;
    /** Rows to score together ({@link VectorDot#rows}) and their scores. */
    private final int[] batch;
    private final float[] scored;
    private final int[] one = new int[1];

    private HnswBuilder(float[] vectors, int size, int dims, int m, int beamWidth, long seed) {
        this.vectors = vectors;
        this.size = size;
        this.dims = dims;
        this.m = m;
        this.beamWidth = beamWidth;
        this.topLevel = new int[size];
        SplittableRandom random = new SplittableRandom(seed);
        double ml = 1 / Math.log(m);
        int levels = 0;
        for (int i = 0; i < size; i++) {
            // 1 - nextDouble() is in (0, 1]: its log is finite.
            double level = Math.floor(-Math.log(1 - random.nextDouble()) * ml);
            topLevel[i] = (int) Math.min(level, 30);
            levels = Math.max(levels, topLevel[i] + 1);
        }
        nodes = new int[levels][];
        rowOf = new int[levels][];
        links = new int[levels][];
        sims = new float[levels][];
        counts = new int[levels][];
        diverse = new boolean[levels][];
        for (int l = 0; l < levels; l++) {
            int rows = 0;
            if (l > 0) {
                for (int i = 0; i < size; i++) if (topLevel[i] >= l) rows++;
                nodes[l] = new int[rows];
                rowOf[l] = new int[size];
                Arrays.fill(rowOf[l], -1);
                int r = 0;
                for (int i = 0; i < size; i++) {
                    if (topLevel[i] >= l) {
                        nodes[l][r] = i;
                        rowOf[l][i] = r++;
                    }
                }
            } else {
                rows = size;
            }
            links[l] = new int[rows * cap(l)];
            sims[l] = new float[rows * cap(l)];
            counts[l] = new int[rows];
            diverse[l] = new boolean[rows];
        }
        visited = new int[size];
        beam = new long[beamWidth];
        expanded = new boolean[beamWidth];
        int most = Math.max(2 * m, beamWidth) + 1;
        pickNodes = new int[most];
        pickSims = new float[most];
        addNodes = new int[2 * m];
        addSims = new float[2 * m];
        pruneKeys = new long[2 * m + 1];
        batch = new int[2 * m + 1];
        scored = new float[2 * m + 1];
    }

    /**
     * The graph over {@code size} rows of {@code dims} floats in {@code vectors}.
     *
     * @param m links a node keeps on levels above 0 (2m on level 0), at least 2
     * @param beamWidth candidates kept by each insertion's search (efConstruction), at least 1
     */
    static HnswBuilder build(float[] vectors, int size, int dims, int m, int beamWidth, long seed) {
        if (m < 2) throw new IllegalArgumentException("HNSW M must be at least 2, got " + m);
        if (beamWidth < 1) throw new IllegalArgumentException("HNSW beam width must be at least 1, got " + beamWidth);
        if (dims < 1 || size < 0 || (long) size * dims > vectors.length) {
            throw new IllegalArgumentException(size + " vectors of " + dims + " dims do not fit " + vectors.length + " floats");
        }
        HnswBuilder b = new HnswBuilder(vectors, size, dims, m, beamWidth, seed);
        for (int node = 0; node < size; node++) b.insert(node);
        for (int l = 0; l < b.levels(); l++) b.connect(l);
        return b;
    }

    int size() {
        return size;
    }

    /** Levels of the graph (0 when empty). */
    int levels() {
        return nodes.length;
    }

    /** The node searches start from: the first inserted on the top level (-1 when empty). */
    int entryNode() {
        return entry;
    }

    /** The nodes on level l, ascending (a copy). */
    int[] nodesOnLevel(int level) {
        if (level == 0) {
            int[] all = new int[size];
            for (int i = 0; i < size; i++) all[i] = i;
            return all;
        }
        return nodes[level].clone();
    }

    /** The links of node on level, in the order kept (a copy); node must be on that level. */
    int[] neighbours(int level, int node) {
        int row = level == 0 ? node : rowOf[level][node];
        if (row < 0) throw new IllegalArgumentException("node " + node + " is not on level " + level);
        int c = cap(level);
        return Arrays.copyOfRange(links[level], row * c, row * c + counts[level][row]);
    }

    /** Most links a node keeps on level: 2M on level 0, M above. */
    int cap(int level) {
        return level == 0 ? 2 * m : m;
    }

    private void insert(int node) {
        int top = topLevel[node];
        int q = node * dims;
        if (entry < 0) {
            entry = node;
            maxLevel = top;
            return;
        }
        // Greedy descent through the levels above the node's own.
        int ep = entry;
        float epSim = dot(q, ep);
        for (int l = maxLevel; l > top; l--) {
            boolean moved = true;
            while (moved) {
                moved = false;
                int row = l == 0 ? ep : rowOf[l][ep];
                int c = cap(l), from = row * c, to = from + counts[l][row];
                int[] ls = links[l];
                VectorDot.rows(vectors, q, ls, from, to, dims, scored);
                for (int i = from; i < to; i++) {
                    int friend = ls[i];
                    float s = scored[i - from];
                    if (s > epSim || (s == epSim && friend < ep)) {
                        epSim = s;
                        ep = friend;
                        moved = true;
                    }
                }
            }
        }
        // Beam search and links on each of the node's levels, from the highest shared with the
        // graph down; each level's results are the next level's entry points.
        int nFound = 1;
        found[0] = HnswWalk.key(epSim, ep);
        for (int l = Math.min(top, maxLevel); l >= 0; l--) {
            nFound = searchLevel(q, l, nFound);
            int kept = select(q, found, nFound, cap(l));
            int row = l == 0 ? node : rowOf[l][node];
            int c = cap(l);
            System.arraycopy(pickNodes, 0, links[l], row * c, kept);
            System.arraycopy(pickSims, 0, sims[l], row * c, kept);
            counts[l][row] = kept;
            diverse[l][row] = true;
            // Copied out first: linking back reuses pickNodes/pickSims.
            System.arraycopy(pickNodes, 0, addNodes, 0, kept);
            System.arraycopy(pickSims, 0, addSims, 0, kept);
            for (int i = 0; i < kept; i++) linkBack(l, addNodes[i], node, addSims[i]);
        }
        // A node above the graph's top level becomes the entry. Without a branch: that happens a
        // few times in a whole build, so C2 compiled the branch as a trap, and the first node to
        // take it deoptimized insert and cost a recompilation (levels are 0 to 30: raise is -1
        // when top > maxLevel, else 0).
        int raise = (maxLevel - top) >> 31;
        entry = (node & raise) | (entry & ~raise);
        maxLevel = Math.max(maxLevel, top);
    }

    /**
     * Beam search on level for row q from the nFound entry keys in {@link #found} (at most
     * beamWidth); leaves the best beamWidth keys found in found, best first, and returns their
     * count.
     *
     * <p>The beam is one sorted array rather than the textbook pair of heaps (candidates to
     * expand, best first, and results, worst on top): every key that could still be expanded is
     * among the beamWidth best found so far, so the beam array with an expanded flag per entry
     * holds both. Each step expands the best entry not yet expanded; a key that enters the beam
     * goes in by binary search and one array shift. This expands the same nodes in the same order
     * as the two heaps (the best unexpanded candidate is either in the beam, or worse than all of
     * it, which is when the heaps' loop stops), so the graph is the same; it is faster (the heaps'
     * sift loops were ~30% of a build's time) and smaller to compile (HnswBuilderTest checks it
     * against a plain two-heap search).
     */
    private int searchLevel(int q, int level, int nFound) {
        int s = nextStamp();
        long[] pool = beam;
        boolean[] done = expanded;
        int size = 0;
        for (int i = 0; i < nFound; i++) {
            long k = found[i];
            visited[HnswWalk.ord(k)] = s;
            size = admit(k, size);
        }
        int c = cap(level);
        int[] ls = links[level], cnt = counts[level], rows = rowOf[level];
        int next = 0;
        while (next < size) {
            done[next] = true;
            int node = HnswWalk.ord(pool[next]);
            int row = rows == null ? node : rows[node];
            // The unvisited links first, then their scores in one call, then the beam in link order.
            // Without a branch on visited (written always, kept only when new): whether a link
            // was seen is a coin toss a branch predictor loses about half the time.
            int fresh = 0;
            for (int i = row * c, end = i + cnt[row]; i < end; i++) {
                int friend = ls[i];
                batch[fresh] = friend;
                fresh += visited[friend] != s ? 1 : 0;
                visited[friend] = s;
            }
            VectorDot.rows(vectors, q, batch, 0, fresh, dims, scored);
            int from = next + 1;
            for (int j = 0; j < fresh; j++) {
                long k = HnswWalk.key(scored[j], batch[j]);
                if (size < beamWidth || k > pool[size - 1]) {
                    int at = insertionPoint(pool, size, k);
                    size = admitAt(k, at, size);
                    if (at < from) from = at;
                }
            }
            next = from;
            while (next < size && done[next]) next++;
        }
        if (found.length < size) found = new long[Math.max(size, 2 * found.length)];
        System.arraycopy(pool, 0, found, 0, size);
        return size;
    }

    /**
     * The beam search an insertion runs on level, for row {@code row} of the vectors (in the
     * graph or not) from entryNode alone: the keys it leaves, best first (for tests).
     */
    long[] beamSearch(int row, int level, int entryNode) {
        found[0] = HnswWalk.key(dot(row * dims, entryNode), entryNode);
        int n = searchLevel(row * dims, level, 1); // first: it may replace found by a larger array
        return Arrays.copyOf(found, n);
    }

    /** Puts key k into the beam of size entries if it is among the beamWidth best; returns the new size. */
    private int admit(long k, int size) {
        if (size == beamWidth && k <= beam[size - 1]) return size;
        return admitAt(k, insertionPoint(beam, size, k), size);
    }

    /** Inserts k, not expanded, at position at of the beam (dropping the worst entry when full); returns the new size. */
    private int admitAt(long k, int at, int size) {
        int moved = Math.min(size, beamWidth - 1) - at;
        if (moved > 0) {
            System.arraycopy(beam, at, beam, at + 1, moved);
            System.arraycopy(expanded, at, expanded, at + 1, moved);
        }
        beam[at] = k;
        expanded[at] = false;
        return Math.min(size + 1, beamWidth);
    }

    /**
     * The position of the first of pool[0 .. size) (descending) below k: where k goes. Written
     * without a data-dependent branch (each step a conditional move): where a key goes is
     * random, so a branch per halving is mispredicted about half the time; with branches this
     * search was a seventh of a build's samples, and the build is ~10% faster without.
     */
    private static int insertionPoint(long[] pool, int size, long k) {
        int lo = 0, n = size;
        while (n > 1) {
            int half = n >>> 1;
            lo = pool[lo + half - 1] > k ? lo + half : lo;
            n -= half;
        }
        return n == 1 && pool[lo] > k ? lo + 1 : lo;
    }

    /**
     * The diversity heuristic: of keys[0 .. n) sorted best first (searchLevel leaves them so),
     * keeps up to max in pickNodes/pickSims, each closer to the base than to every one kept
     * before it. Returns how many were kept.
     */
    private int select(int base, long[] keys, int n, int max) {
        int kept = 0;
        for (int i = 0; i < n && kept < max; i++) {
            int cand = HnswWalk.ord(keys[i]);
            if (cand * dims == base) continue;
            float toBase = HnswWalk.score(keys[i]);
            if (diverse(cand, toBase, kept)) {
                pickNodes[kept] = cand;
                pickSims[kept] = toBase;
                kept++;
            }
        }
        return kept;
    }

    private boolean diverse(int cand, float toBase, int kept) {
        int c = cand * dims;
        for (int j = 0; j < kept; j++) {
            if (dot(c, pickNodes[j]) > toBase) return false;
        }
        return true;
    }

    /** Adds node to other's links on level (sim: their dot product), pruning other's list when full. */
    private void linkBack(int level, int other, int node, float sim) {
        int row = level == 0 ? other : rowOf[level][other];
        int c = cap(level), from = row * c, n = counts[level][row];
        int[] ls = links[level];
        float[] ss = sims[level];
        if (n < c) {
            ls[from + n] = node;
            ss[from + n] = sim;
            counts[level][row] = n + 1;
            diverse[level][row] = false;
            return;
        }
        // Full: of the old links and the new one, best first, drop the worst link that is
        // closer to a better one than to this node (not diverse), or the worst if all are.
        long[] keys = pruneKeys;
        for (int i = 0; i < n; i++) keys[i] = HnswWalk.key(ss[from + i], ls[from + i]);
        long added = HnswWalk.key(sim, node);
        keys[n] = added;
        sortDescending(keys, n + 1);
        int drop = n;
        boolean nowDiverse;
        if (diverse[level][row]) {
            // The old links are diverse among themselves: only the new one can be non-diverse,
            // or make a worse link so.
            int p = 0;
            while (keys[p] != added) p++;
            int q = node * dims, nonDiverse = 0;
            drop = -1;
            for (int i = 0; i <= n; i++) batch[i] = HnswWalk.ord(keys[i]);
            VectorDot.rows(vectors, q, batch, 0, n + 1, dims, scored);
            for (int i = 0; i <= n; i++) {
                if (i == p) continue;
                float d = scored[i];
                boolean bad = i < p ? d > sim : d > HnswWalk.score(keys[i]);
                if (!bad) continue;
                int victim = i < p ? p : i;
                if (victim == p && drop == p) continue; // the new link counted once
                nonDiverse++;
                drop = Math.max(drop, victim);
            }
            nowDiverse = nonDiverse <= 1;
            if (drop < 0) drop = n;
        } else {
            nowDiverse = true;
            search:
            for (int i = n; i >= 1; i--) {
                int worse = HnswWalk.ord(keys[i]) * dims;
                float toOther = HnswWalk.score(keys[i]);
                for (int j = 0; j < i; j++) {
                    if (dot(worse, HnswWalk.ord(keys[j])) > toOther) {
                        drop = i;
                        // Links better than this one were not checked.
                        nowDiverse = false;
                        break search;
                    }
                }
            }
        }
        for (int i = 0, at = from; i <= n; i++) {
            if (i == drop) continue;
            ls[at] = HnswWalk.ord(keys[i]);
            ss[at++] = HnswWalk.score(keys[i]);
        }
        counts[level][row] = n;
        diverse[level][row] = nowDiverse;
    }

    /**
     * Insertion sort, greatest first, of keys[0 .. n) (at most 2M + 1 of them, distinct): for so
     * few keys one pass does what Arrays.sort and a reversal did, in a few bytecodes for the JIT
     * to compile instead of the JDK's sort dispatch.
     */
    private static void sortDescending(long[] keys, int n) {
        for (int i = 1; i < n; i++) {
            long k = keys[i];
            int j = i - 1;
            while (j >= 0 && keys[j] < k) {
                keys[j + 1] = keys[j];
                j--;
            }
            keys[j + 1] = k;
        }
    }

    /**
     * Makes every node of level reachable from the entry: pruning a full list can drop a node's
     * last incoming link (rare; hnswlib leaves it so, Lucene reconnects too). Each node still
     * unreached, lowest first, gets a link from the best node a search for it reaches that has
     * room; when none has, from the best one, in place of its last (least similar) link, and
     * the pass repeats, since that link's node may now be cut off in turn.
     */
    private void connect(int level) {
        int[] onLevel = level == 0 ? null : nodes[level];
        int count = onLevel == null ? size : onLevel.length;
        int c = cap(level);
        for (int round = 0; round < 8; round++) {
            boolean[] reached = reachable(level);
            boolean changed = false;
            for (int i = 0; i < count; i++) {
                int u = onLevel == null ? i : onLevel[i];
                if (reached[u]) continue;
                found[0] = HnswWalk.key(dot(u * dims, entry), entry);
                int n = searchLevel(u * dims, level, 1);
                int pick = -1;
                for (int j = 0; j < n && pick < 0; j++) {
                    int r = HnswWalk.ord(found[j]);
                    if (counts[level][row(level, r)] < c) pick = j;
                }
                boolean replace = pick < 0;
                if (replace) pick = 0;
                int r = HnswWalk.ord(found[pick]), row = row(level, r);
                int slot = replace ? row * c + c - 1 : row * c + counts[level][row]++;
                links[level][slot] = u;
                sims[level][slot] = HnswWalk.score(found[pick]);
                diverse[level][row] = false;
                markFrom(level, u, reached);
                changed |= replace;
            }
            if (!changed) return;
        }
    }

    private boolean[] reachable(int level) {
        boolean[] reached = new boolean[size];
        markFrom(level, entry, reached);
        return reached;
    }

    /** Marks in reached every node reachable on level from start (start included). */
    private void markFrom(int level, int start, boolean[] reached) {
        if (reached[start]) return;
        int c = cap(level);
        int[] stack = new int[16];
        int top = 0;
        stack[top++] = start;
        reached[start] = true;
        while (top > 0) {
            int row = row(level, stack[--top]);
            for (int i = row * c, end = i + counts[level][row]; i < end; i++) {
                int x = links[level][i];
                if (reached[x]) continue;
                reached[x] = true;
                if (top == stack.length) stack = Arrays.copyOf(stack, 2 * top);
                stack[top++] = x;
            }
        }
    }

    private int row(int level, int node) {
        return level == 0 ? node : rowOf[level][node];
    }

    /** Row q (an offset) against node's row: {@link VectorDot#rows} of one, the builder's only dot product code. */
    private float dot(int q, int node) {
        one[0] = node;
        VectorDot.rows(vectors, q, one, 0, 1, dims, scored);
        return scored[0];
    }

    private int nextStamp() {
        if (++stamp == 0) {
            Arrays.fill(visited, 0);
            stamp = 1;
        }
        return stamp;
    }
}
