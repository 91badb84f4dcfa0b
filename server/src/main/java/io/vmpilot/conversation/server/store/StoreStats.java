package io.vmpilot.conversation.server.store;

/**
 * Size of a store, and how its writes reached the disk (syncs stay 0 for the memory backend).
 *
 * @param committedWrites write requests committed and acknowledged
 * @param syncs points at which writes became durable (disk syncs; commits where nothing is synced)
 * @param bytesWritten message JSON bytes written
 * @param unsyncedWrites acknowledged writes not yet synced to disk, which a power loss could take now: with SQLite
 *     {@code durability=normal} those since the last periodic sync of the log; 0 where every acknowledgement waits
 *     for a sync (SQLite {@code full}, PostgreSQL) and for the memory backend, which keeps nothing on disk
 */
public record StoreStats(long conversations, long messages, long historyBytes, long committedWrites, long syncs,
    long bytesWritten, long unsyncedWrites) {}
