package io.vmpilot.conversation.server.store;

/**
 * What a Fork made.
 *
 * @param version the new conversation's version
 * @param messageCount how many messages were copied into it
 * @param sourceVersion the version of the source the copy was taken from
 */
public record ForkResult(long version, long messageCount, long sourceVersion) {}
