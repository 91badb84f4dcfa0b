package io.vmpilot.conversation.server.store;

import java.util.Map;

/**
 * The metadata filter of List, Search, Export and Watch, as one rule: a conversation passes when its metadata has
 * every one of the filter's key=value pairs (so the empty filter passes every conversation). The SQL backends put
 * the same rule into their List and Search queries; everything that filters in Java asks this class.
 */
public final class MetadataFilter {
  private MetadataFilter() {}

  /** Whether {@code metadata} has every pair of {@code filter}. */
  public static boolean matches(Map<String, String> filter, Map<String, String> metadata) {
    return metadata.entrySet().containsAll(filter.entrySet());
  }
}
