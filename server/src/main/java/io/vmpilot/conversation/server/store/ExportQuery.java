package io.vmpilot.conversation.server.store;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One page of a tenant's conversations in ascending thread id order (Unicode code points, which is also the order
 * of their UTF-8 bytes, so every backend agrees): those after {@code afterThreadId} ("" for the first page) that
 * pass every filter. Paging by key keeps an export's memory flat: a page holds at most {@code limit} summaries.
 *
 * @param threadIds only these thread ids; empty for all
 * @param updatedAfter only conversations last changed at or after this time
 * @param updatedBefore only conversations last changed before this time
 */
public record ExportQuery(String tenant, String afterThreadId, int limit, Map<String, String> metadataFilter,
    Optional<Instant> updatedAfter, Optional<Instant> updatedBefore, Set<String> threadIds) {
  public ExportQuery {
    metadataFilter = Map.copyOf(metadataFilter);
    threadIds = Set.copyOf(threadIds);
    if (limit <= 0) {
      throw new IllegalArgumentException("limit must be positive: " + limit);
    }
  }

  /** Whether a conversation with this summary passes the filters (not the position after the cursor). */
  public boolean matches(ConversationSummary s) {
    return (threadIds.isEmpty() || threadIds.contains(s.key().threadId()))
        && MetadataFilter.matches(metadataFilter, s.metadata())
        && updatedAfter.map(t -> !s.updateTime().isBefore(t)).orElse(true)
        && updatedBefore.map(t -> s.updateTime().isBefore(t)).orElse(true);
  }

  /** Thread ids in code point order (String.compareTo compares UTF-16 units, which differs above U+FFFF). */
  public static int compareThreadIds(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }
}
