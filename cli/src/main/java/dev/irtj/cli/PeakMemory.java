package dev.irtj.cli;

import com.sun.management.GarbageCollectionNotificationInfo;

import javax.management.ListenerNotFoundException;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The most heap a stretch of work had in use, and the process's peak resident memory, for
 * {@code irt bench}'s memory report. Used heap only grows between collections, so its maximum is
 * the heap in use just before some collection (each collection's {@link
 * GarbageCollectionNotificationInfo} says how much that was, pool by pool) or at the end; {@link
 * #sample()} adds the current figure for stretches in which no collection ran. That peak includes
 * garbage not yet collected: it is what the heap had to hold, not what was live.
 */
final class PeakMemory implements AutoCloseable {
    private final AtomicLong peakHeap = new AtomicLong();
    private final Set<String> heapPools = new HashSet<>();
    private final List<NotificationEmitter> emitters = new ArrayList<>();
    private final NotificationListener listener = (n, handback) -> {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) return;
        GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
        long before = 0;
        for (var e : info.getGcInfo().getMemoryUsageBeforeGc().entrySet()) {
            if (heapPools.contains(e.getKey())) before += e.getValue().getUsed();
        }
        raise(before);
    };

    /** Starts watching: collections from now on count, and the heap in use now. */
    PeakMemory() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) heapPools.add(pool.getName());
        }
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter e) {
                e.addNotificationListener(listener, null, null);
                emitters.add(e);
            }
        }
        sample();
    }

    /** Counts the heap in use now. */
    void sample() {
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        raise(heap.getUsed());
    }

    private void raise(long bytes) {
        peakHeap.accumulateAndGet(bytes, Math::max);
    }

    /** The most heap in use since construction, in bytes (counting the heap in use now). */
    long peakHeapBytes() {
        sample();
        return peakHeap.get();
    }

    /**
     * The process's peak resident set (VmHWM of /proc/self/status) in bytes, over its whole life;
     * -1 where the system has no such file (not Linux).
     */
    static long peakRssBytes() {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) return -1;
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;   // the kernel writes kB
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    @Override
    public void close() {
        for (NotificationEmitter e : emitters) {
            try {
                e.removeNotificationListener(listener);
            } catch (ListenerNotFoundException ignored) {
                // never added to this one: nothing to undo
            }
        }
    }
}
