package io.vmpilot.conversation.server.store;

/**
 * Size of a store, and how its writes reached the disk (syncs stay 0 for the memory backend).
 *
 * @param committedWrites write requests committed and acknowledged
 * @param syncs points at which writes became durable (disk syncs; commits where nothing is synced)
 * @param bytesWritten message JSON bytes written
 */
public record StoreStats(
    long conversations, long messages, long historyBytes, long committedWrites, long syncs, long bytesWritten) {}
