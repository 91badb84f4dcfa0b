package io.vmpilot.conversation.server.store;

/**
 * One message a search found.
 *
 * @param score how well it matched: higher is better; comparable only within one backend and one query
 */
public record SearchHit(String threadId, long position, String snippet, double score) {}
