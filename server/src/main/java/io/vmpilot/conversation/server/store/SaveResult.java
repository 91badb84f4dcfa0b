package io.vmpilot.conversation.server.store;

/** The outcome of a save; {@code messagesWritten} counts only the rows that had to be (re)written. */
public record SaveResult(long version, long messageCount, boolean created, long messagesWritten) {}
