package io.vmpilot.conversation.server.store.write;

/**
 * The limits the write rules enforce.
 *
 * @param maxHistoryBytes the most UTF-8 bytes of messages one conversation may hold
 * @param maxConversationsPerTenant the most conversations one tenant may have ({@link Long#MAX_VALUE}: no limit,
 *     and no count is taken)
 */
public record StoreLimits(long maxHistoryBytes, long maxConversationsPerTenant) {
  public StoreLimits {
    if (maxHistoryBytes <= 0 || maxConversationsPerTenant <= 0) {
      throw new IllegalArgumentException("limits must be positive: " + maxHistoryBytes + ", "
          + maxConversationsPerTenant);
    }
  }

  public boolean limitsConversations() {
    return maxConversationsPerTenant != Long.MAX_VALUE;
  }
}
