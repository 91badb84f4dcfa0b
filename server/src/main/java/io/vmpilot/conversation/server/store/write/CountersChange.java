package io.vmpilot.conversation.server.store.write;

/** What a mutation does to a conversation's cache counters. */
public enum CountersChange {
  /** Append without counters, Fork, UpdateMetadata without cache_set: the counters stay as they are. */
  KEEP,
  /** UpdateCache: the given counters replace all of them. */
  REPLACE,
  /** Save, Append with counters, UpdateMetadata's cache_set: the given counters are set and the others kept. */
  MERGE
}
