package io.vmpilot.conversation.server.store;

/** The outcome of an append: how many of the request's messages were new. */
public record AppendResult(long version, long messageCount, int appendedCount, boolean created) {}
