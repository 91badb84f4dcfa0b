package io.vmpilot.conversation.server.store.write;

/** What a mutation does to a conversation's cache counters. */
public enum CountersChange {
  /** Append: the counters stay as they are. */
  KEEP,
  /** UpdateCache: the given counters replace all of them. */
  REPLACE,
  /** Save: the given counters are set and the others kept (VMPilot's merge). */
  MERGE
}
