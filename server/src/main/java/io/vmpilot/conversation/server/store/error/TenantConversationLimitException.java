package io.vmpilot.conversation.server.store.error;

import io.vmpilot.conversation.server.store.ThreadKey;
/** Creating the conversation would give its tenant more conversations than the configured limit. */
public final class TenantConversationLimitException extends StoreException {
  private final ThreadKey key;
  private final long limit;

  public TenantConversationLimitException(ThreadKey key, long limit) {
    super("tenant " + key.tenant() + " already has " + limit + " conversations, the most allowed; clear some first",
        null);
    this.key = key;
    this.limit = limit;
  }

  public ThreadKey key() {
    return key;
  }

  public long limit() {
    return limit;
  }
}
