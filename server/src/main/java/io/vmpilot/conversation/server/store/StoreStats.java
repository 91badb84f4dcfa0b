package io.vmpilot.conversation.server.store;

/** Size of a store, and how its writes reached the disk (syncs stay 0 for the memory backend). */
public record StoreStats(
    long conversations, long messages, long historyBytes, long committedWrites, long syncs, long bytesWritten) {}
