package io.vmpilot.conversation.server.store;

/**
 * How large a conversation's history is, from its row alone: what the service needs to tell a large read from a
 * small one before reading it ({@link ConversationStore#historySize}).
 *
 * @param historyBytes the UTF-8 bytes of its messages' JSON, as the history limit counts them
 */
public record HistorySize(long messageCount, long historyBytes) {}
