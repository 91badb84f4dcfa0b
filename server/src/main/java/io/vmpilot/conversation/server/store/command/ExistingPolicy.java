package io.vmpilot.conversation.server.store.command;

/** What an import does with a conversation that exists and differs from the record (identical ones are skipped). */
public enum ExistingPolicy {
  /** Refuse: {@code ConversationExistsException}. */
  FAIL,
  /** Keep the stored one. */
  SKIP,
  /** Replace it, in the same transaction. */
  REPLACE
}
