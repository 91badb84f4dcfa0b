package io.vmpilot.conversation.server.store;

import java.util.List;
import java.util.Map;

/**
 * A search of one tenant's messages: messages whose text holds every phrase (each a run of consecutive words, see
 * {@link SearchText#words}), best first, from the {@code offset}-th hit on.
 *
 * @param phrases at least one, each at least one word, words as {@link SearchText#words} makes them
 * @param metadataFilter only conversations whose metadata has every one of these pairs
 */
public record SearchQuery(String tenant, List<List<String>> phrases, Map<String, String> metadataFilter, int limit,
    long offset) {
  public SearchQuery {
    phrases = phrases.stream().map(List::copyOf).toList();
    metadataFilter = Map.copyOf(metadataFilter);
    if (phrases.isEmpty() || phrases.stream().anyMatch(List::isEmpty)) {
      throw new IllegalArgumentException("a search needs at least one word in each phrase");
    }
  }
}
