package dev.irtj.index;

import org.apache.lucene.util.Bits;

import java.util.Arrays;

/**
 * irtj's HNSW search over a {@link SegmentGraph}: the algorithm of Lucene 9.12's
 * {@code HnswGraphSearcher} with a {@code TopKnnCollector} (greedy descent through the upper
 * levels from the entry node, then a beam of {@code n} on level 0; a node is expanded while its
 * score is at least the worst of the n best, and a neighbour enters the beam if it scores above
 * it), so that on one segment it returns the very candidates Lucene's search does, ties
 * included; and, as Lucene does, every vector when {@code n} is at least the segment's size.
 *
 * <p>What differs is the cost: the graph and vectors are arrays on the heap, the visited set is
 * an array of stamps reused by each thread (a new search bumps the stamp instead of clearing),
 * the two heaps are of primitive longs (score and node in one key, as Lucene's NeighborQueue
 * packs them, so ties break the same way: the lower node first), and nothing is allocated per
 * visited node.
 *
 * <p>Scores are Lucene's for DOT_PRODUCT on irtj's dot product,
 * {@link IrtjFlatVectorsScorer#score}, bit for bit what the segment's own scorer computes.
 */
final class HnswWalk {
    private HnswWalk() {
    }

    /** Per-thread scratch: visited stamps and the two heaps, grown on demand, never shrunk. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * The best {@code n} accepted nodes for {@code query}, as keys {@code (score, ord)} (decode
     * with {@link #score} and {@link #ord}), in no particular order.
     *
     * @param live the segment's live docs (doc-indexed), or null when none is deleted
     */
    static long[] search(SegmentGraph g, float[] query, int n, Bits live) {
        if (g.size == 0 || n <= 0) return new long[0];
        Scratch s = SCRATCH.get();
        LongHeap results = s.results;
        results.clear();
        if (n >= g.size) {
            for (int ord = 0; ord < g.size; ord++) {
                if (accepted(g, live, ord)) results.push(key(score(g, query, ord), ord));
            }
            return results.toArray();
        }
        int ep = g.entryNode;
        float epScore = score(g, query, ep);
        int[] visited = s.visited(g.size);
        if (g.levels() > 1) {
            // Greedy descent: one visited set for all upper levels (as Lucene's).
            int stamp = s.nextStamp();
            for (int level = g.levels() - 1; level >= 1; level--) {
                visited[ep] = stamp;
                boolean better = true;
                while (better) {
                    better = false;
                    int row = g.row(level, ep);
                    if (row < 0) break;
                    int[] nbs = g.neighbours[level];
                    for (int i = g.offsets[level][row], end = g.offsets[level][row + 1]; i < end; i++) {
                        int friend = nbs[i];
                        if (visited[friend] == stamp) continue;
                        visited[friend] = stamp;
                        float sc = score(g, query, friend);
                        if (sc > epScore) {
                            epScore = sc;
                            ep = friend;
                            better = true;
                        }
                    }
                }
            }
        }
        // Level 0: candidates as a max-heap (keys negated bitwise into the min-heap), results a
        // min-heap of at most n whose top is the worst kept.
        int stamp = s.nextStamp();
        LongHeap candidates = s.candidates;
        candidates.clear();
        visited[ep] = stamp;
        candidates.push(~key(epScore, ep));
        if (accepted(g, live, ep)) results.push(key(epScore, ep));
        float minAccepted = results.size() >= n ? score(results.top()) : Float.NEGATIVE_INFINITY;
        int[] off = g.offsets[0], nbs = g.neighbours[0];
        while (candidates.size() > 0) {
            long top = ~candidates.top();
            if (score(top) < minAccepted) break;
            candidates.pop();
            int node = ord(top);
            for (int i = off[node], end = off[node + 1]; i < end; i++) {
                int friend = nbs[i];
                if (visited[friend] == stamp) continue;
                visited[friend] = stamp;
                float sc = score(g, query, friend);
                if (sc > minAccepted) {
                    long k = key(sc, friend);
                    candidates.push(~k);
                    if (accepted(g, live, friend)) {
                        if (results.size() < n) {
                            results.push(k);
                        } else if (k > results.top()) {
                            results.replaceTop(k);
                        } else {
                            continue;
                        }
                        if (results.size() >= n) minAccepted = score(results.top());
                    }
                }
            }
        }
        return results.toArray();
    }

    private static boolean accepted(SegmentGraph g, Bits live, int ord) {
        return live == null || live.get(g.ordToDoc[ord]);
    }

    private static float score(SegmentGraph g, float[] query, int ord) {
        return IrtjFlatVectorsScorer.score(VectorDot.dot(query, g.vectors, ord * g.dims));
    }

    /**
     * Score in the high half (order-preserving int bits), the bitwise complement of the node in
     * the low half: a greater key is a higher score, then a lower node.
     */
    static long key(float score, int ord) {
        int bits = Float.floatToIntBits(score);
        int sortable = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) sortable << 32) | (~ord & 0xffffffffL);
    }

    static float score(long key) {
        int sortable = (int) (key >>> 32);
        return Float.intBitsToFloat(sortable ^ ((sortable >> 31) & 0x7fffffff));
    }

    static int ord(long key) {
        return ~(int) key;
    }

    private static final class Scratch {
        private int[] visited = new int[0];
        private int stamp;
        final LongHeap candidates = new LongHeap();
        final LongHeap results = new LongHeap();

        int[] visited(int size) {
            if (visited.length < size) {
                visited = new int[Math.max(size, visited.length + visited.length / 2)];
                stamp = 0;
            }
            return visited;
        }

        /** A stamp no entry of visited holds yet (cleared once every 2^32 - 1 searches). */
        int nextStamp() {
            if (++stamp == 0) {
                Arrays.fill(visited, 0);
                stamp = 1;
            }
            return stamp;
        }
    }

    /** A binary min-heap of longs, grown on demand. */
    static final class LongHeap {
        private long[] heap = new long[64];
        private int size;

        int size() {
            return size;
        }

        void clear() {
            size = 0;
        }

        long top() {
            return heap[0];
        }

        void push(long v) {
            if (size == heap.length) heap = Arrays.copyOf(heap, size * 2);
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= v) break;
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = v;
        }

        long pop() {
            long top = heap[0];
            long last = heap[--size];
            if (size > 0) siftDown(last);
            return top;
        }

        void replaceTop(long v) {
            siftDown(v);
        }

        private void siftDown(long v) {
            int i = 0;
            int half = size >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                if (child + 1 < size && heap[child + 1] < heap[child]) child++;
                if (v <= heap[child]) break;
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = v;
        }

        long[] toArray() {
            return Arrays.copyOf(heap, size);
        }
    }
}
