package io.vmpilot.conversation.server.store;

import java.util.Map;

/**
 * One page of a tenant's conversations, newest version first: those with a version below
 * {@code beforeVersion} whose metadata contains every entry of {@code metadataFilter}.
 */
public record ListQuery(String tenant, int limit, long beforeVersion, Map<String, String> metadataFilter) {
  public ListQuery {
    metadataFilter = Map.copyOf(metadataFilter);
    if (limit <= 0) {
      throw new IllegalArgumentException("limit must be positive: " + limit);
    }
  }
}
