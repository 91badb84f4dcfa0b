package io.vmpilot.conversation.server.store;

import java.time.Instant;
import java.util.Map;

/**
 * One page of a tenant's conversations, newest version first: those with a version below
 * {@code beforeVersion} whose metadata contains every entry of {@code metadataFilter}.
 *
 * @param updatedSince only conversations last updated at or after it (retention hides older ones), or null for all
 */
public record ListQuery(String tenant, int limit, long beforeVersion, Map<String, String> metadataFilter,
    Instant updatedSince) {
  public ListQuery(String tenant, int limit, long beforeVersion, Map<String, String> metadataFilter) {
    this(tenant, limit, beforeVersion, metadataFilter, null);
  }

  /** This query, also leaving out conversations last updated before {@code since}. */
  public ListQuery updatedSince(Instant since) {
    return new ListQuery(tenant, limit, beforeVersion, metadataFilter,
        updatedSince == null || since.isAfter(updatedSince) ? since : updatedSince);
  }

  /** Whether a conversation last updated at {@code updateTime} is in range of {@link #updatedSince}. */
  public boolean admits(Instant updateTime) {
    return updatedSince == null || !updateTime.isBefore(updatedSince);
  }

  public ListQuery {
    metadataFilter = Map.copyOf(metadataFilter);
    if (limit <= 0) {
      throw new IllegalArgumentException("limit must be positive: " + limit);
    }
  }
}
