package io.vmpilot.conversation.server.store;

/** What an import of one conversation did. */
public enum ImportOutcome {
  /** There was no such conversation; it was stored. */
  CREATED,
  /** A different one was stored and the policy said replace: it was. */
  REPLACED,
  /** The stored one is identical: nothing changed. */
  UNCHANGED,
  /** A different one was stored and the policy said skip: nothing changed. */
  KEPT_EXISTING,
  /** The record's own expire time had passed: it was not stored, and a stored one was left as it was. */
  EXPIRED
}
