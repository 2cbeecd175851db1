package dev.irtj.eval;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.HostStorage;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.TopK;

/**
 * Walks the similarity matrix S = Q·Dᵀ block by block without ever holding all of it: each block
 * is one {@link Tensor#matmul} of a slice of query rows with a slice of database rows (so the
 * fastest backend of the tensors' device computes it), read back to the host as F32, handed to
 * a consumer, and released before the next block is computed.
 */
final class SimilarityBlocks {
    private SimilarityBlocks() {
    }

    /** Receives one block: rows qStart..qStart+qLen-1, columns dStart..dStart+dLen-1. */
    @FunctionalInterface
    interface Consumer {
        /**
         * {@code sims[offset + r * dLen + c]} is the similarity of query {@code qStart + r} with
         * database item {@code dStart + c}. The array is only valid during the call.
         */
        void accept(int qStart, int qLen, int dStart, int dLen, float[] sims, int offset);
    }

    /** Receives one block's row top-k: rows qStart..qStart+qLen-1 against columns dStart.. of it. */
    @FunctionalInterface
    interface TopKConsumer {
        /**
         * Row r's {@code take} best similarities, best first, are {@code values[r * take + c]}
         * at database items {@code dStart + positions[r * take + c]}; valid during the call only.
         */
        void accept(int qStart, int qLen, int dStart, int take, float[] values, long[] positions);
    }

    /** Fails unless both are [rows, D] floating tensors with the same D on one device. */
    static void checkPair(Tensor queries, Tensor database) {
        checkMatrix(queries, "queries");
        checkMatrix(database, "database");
        if (queries.shape(1) != database.shape(1)) {
            throw new IllegalArgumentException("queries " + Shape.str(queries.shape()) + " and database "
                    + Shape.str(database.shape()) + " have descriptors of different sizes");
        }
        if (!queries.device().equals(database.device())) {
            throw new IllegalArgumentException("queries are on " + queries.device() + ", database on " + database.device());
        }
    }

    static void checkMatrix(Tensor t, String what) {
        if (t == null) throw new NullPointerException(what + " is null");
        if (t.rank() != 2) {
            throw new IllegalArgumentException(what + " must be a [rows, dims] matrix, got shape " + Shape.str(t.shape()));
        }
        if (!t.dtype().isFloating()) throw new IllegalArgumentException(what + " must be F32 or F64, got " + t.dtype());
        if (t.shape(1) == 0) throw new IllegalArgumentException(what + " has descriptors of size 0");
    }

    static void checkBlock(int block, String what) {
        if (block < 1) throw new IllegalArgumentException(what + " block size must be >= 1, got " + block);
    }

    /**
     * Calls {@code consumer} for every block, query blocks in order and, inside each, database
     * blocks in order. Similarities are computed in F32 (F64 inputs are converted first).
     */
    static void forEach(Tensor queries, Tensor database, int queryBlock, int databaseBlock, Consumer consumer) {
        checkPair(queries, database);
        checkBlock(queryBlock, "query");
        checkBlock(databaseBlock, "database");
        walk(queries, database, queryBlock, databaseBlock, (qs, ql, ds, dl, s) -> {
            if (s.storage() instanceof HostStorage h && s.isContiguous() && s.dtype() == DType.F32) {
                consumer.accept(qs, ql, ds, dl, h.f32(), s.offset()); // no copy on the host
            } else {
                consumer.accept(qs, ql, ds, dl, s.toFloatArray(), 0);
            }
        });
    }

    /**
     * As {@link #forEach}, but each block's rows are cut to their {@code perBlock} best entries
     * ({@link Tensor#topk}, min(perBlock, block columns) per row) on the tensors' device, and
     * only those come to the host.
     */
    static void forEachTopK(Tensor queries, Tensor database, int queryBlock, int databaseBlock, int perBlock, TopKConsumer consumer) {
        checkPair(queries, database);
        checkBlock(queryBlock, "query");
        checkBlock(databaseBlock, "database");
        if (perBlock < 1) throw new IllegalArgumentException("a block's top-k needs k >= 1, got " + perBlock);
        walk(queries, database, queryBlock, databaseBlock, (qs, ql, ds, dl, s) -> {
            TopK best = s.topk(Math.min(perBlock, dl));
            consumer.accept(qs, ql, ds, best.values().shape(1), best.values().toFloatArray(), best.indices().toLongArray());
        });
    }

    /** One block's product S[qs..qs+ql, ds..ds+dl] on the tensors' device, valid during the call only. */
    @FunctionalInterface
    private interface BlockProduct {
        void accept(int qs, int ql, int ds, int dl, Tensor scores);
    }

    /**
     * The block walk both consumers share (arguments already checked): query blocks in order and,
     * inside each, database blocks in order, each product computed in F32 (F64 inputs are
     * converted first) and released before the next.
     */
    private static void walk(Tensor queries, Tensor database, int queryBlock, int databaseBlock, BlockProduct body) {
        int nq = queries.shape(0), nd = database.shape(0);
        if (nq == 0 || nd == 0) return;
        // The outer scope releases F32 copies made here; the inner one each block's product.
        try (MemoryScope all = MemoryScope.open()) {
            Tensor q = queries.to(DType.F32), d = database.to(DType.F32);
            for (int qs = 0; qs < nq; qs += queryBlock) {
                int ql = Math.min(queryBlock, nq - qs);
                Tensor qb = q.narrow(0, qs, ql);
                for (int ds = 0; ds < nd; ds += databaseBlock) {
                    int dl = Math.min(databaseBlock, nd - ds);
                    try (MemoryScope block = MemoryScope.open()) {
                        body.accept(qs, ql, ds, dl, qb.matmul(d.narrow(0, ds, dl).mT()));
                    }
                }
            }
        }
    }
}
