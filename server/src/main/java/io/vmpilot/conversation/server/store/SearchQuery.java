package io.vmpilot.conversation.server.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A search of one tenant's messages: messages whose text holds every phrase (each a run of consecutive words, see
 * {@link SearchText#words}), best first, from the {@code offset}-th hit on.
 *
 * @param phrases at least one, each at least one word, words as {@link SearchText#words} makes them
 * @param metadataFilter only conversations whose metadata has every one of these pairs
 * @param updatedSince only conversations last updated at or after it (retention hides older ones), or null for all
 */
public record SearchQuery(String tenant, List<List<String>> phrases, Map<String, String> metadataFilter, int limit,
    long offset, Instant updatedSince) {
  public SearchQuery(String tenant, List<List<String>> phrases, Map<String, String> metadataFilter, int limit,
      long offset) {
    this(tenant, phrases, metadataFilter, limit, offset, null);
  }

  /** This query, also leaving out conversations last updated before {@code since}. */
  public SearchQuery updatedSince(Instant since) {
    return new SearchQuery(tenant, phrases, metadataFilter, limit, offset,
        updatedSince == null || since.isAfter(updatedSince) ? since : updatedSince);
  }

  /** Whether a conversation last updated at {@code updateTime} is in range of {@link #updatedSince}. */
  public boolean admits(Instant updateTime) {
    return updatedSince == null || !updateTime.isBefore(updatedSince);
  }

  public SearchQuery {
    phrases = phrases.stream().map(List::copyOf).toList();
    metadataFilter = Map.copyOf(metadataFilter);
    if (phrases.isEmpty() || phrases.stream().anyMatch(List::isEmpty)) {
      throw new IllegalArgumentException("a search needs at least one word in each phrase");
    }
  }
}
