package dev.irtj.serve;

import dev.irtj.index.IndexInfo;
import dev.irtj.index.IndexedImage;
import dev.irtj.index.VectorIndex;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * An exact in-memory {@link VectorIndex} for the service's tests: writes are staged and become
 * visible at {@link #commit()}, as in the embedded index, and every call may run concurrently
 * with the others (a writer thread grows it while searches run).
 */
final class InMemoryIndex implements VectorIndex {
    private final String fingerprint;
    private final String describer;
    private final int dims;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final Map<String, IndexedImage> visible = new TreeMap<>();
    private final Map<String, IndexedImage> staged = new LinkedHashMap<>();
    private final List<String> stagedDeletes = new ArrayList<>();
    volatile boolean closed;

    InMemoryIndex(String fingerprint, String describer, int dims) {
        this.fingerprint = fingerprint;
        this.describer = describer;
        this.dims = dims;
    }

    @Override
    public IndexInfo info() throws IOException {
        checkOpen();
        lock.readLock().lock();
        try {
            return new IndexInfo(fingerprint, describer, dims, visible.size());
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void upsert(Collection<IndexedImage> images) throws IOException {
        checkOpen();
        lock.writeLock().lock();
        try {
            for (IndexedImage im : images) {
                if (im.vector() == null || im.vector().length != dims) throw new IllegalArgumentException("image " + im.id() + " needs a " + dims + "-d vector");
                staged.put(im.id(), im);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public void delete(Collection<String> ids) throws IOException {
        checkOpen();
        lock.writeLock().lock();
        try {
            stagedDeletes.addAll(ids);
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public void commit() throws IOException {
        checkOpen();
        lock.writeLock().lock();
        try {
            visible.putAll(staged);
            staged.clear();
            stagedDeletes.forEach(visible::remove);
            stagedDeletes.clear();
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public List<Hit> search(float[] query, int k) throws IOException {
        checkOpen();
        if (query.length != dims) throw new IllegalArgumentException("query has " + query.length + " values, index " + dims);
        List<Hit> all = new ArrayList<>();
        lock.readLock().lock();
        try {
            for (IndexedImage im : visible.values()) {
                float s = 0;
                for (int i = 0; i < dims; i++) s += query[i] * im.vector()[i];
                all.add(new Hit(withoutVector(im), s));
            }
        } finally {
            lock.readLock().unlock();
        }
        all.sort(Comparator.comparingDouble((Hit h) -> -h.score()).thenComparing(h -> h.image().id()));
        return List.copyOf(all.subList(0, Math.min(k, all.size())));
    }

    private static IndexedImage withoutVector(IndexedImage im) {
        return new IndexedImage(im.id(), im.path(), null, im.label(), im.bytes(), im.modified(), im.width(), im.height(), im.metadata());
    }

    @Override
    public Optional<IndexedImage> get(String id) throws IOException {
        checkOpen();
        lock.readLock().lock();
        try {
            return Optional.ofNullable(visible.get(id));
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public Map<String, IndexedImage.Stamp> stamps() throws IOException {
        checkOpen();
        lock.readLock().lock();
        try {
            Map<String, IndexedImage.Stamp> out = new TreeMap<>();
            visible.forEach((id, im) -> out.put(id, im.stamp()));
            return out;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void close() {
        closed = true;
    }

    private void checkOpen() throws IOException {
        if (closed) throw new IOException("index is closed");
    }
}
