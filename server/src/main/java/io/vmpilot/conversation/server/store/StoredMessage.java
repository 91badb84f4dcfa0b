package io.vmpilot.conversation.server.store;

import java.time.Instant;

/**
 * A message as stored: its client id ("" for none), its JSON text, its 0-based position in the history and when it
 * was stored.
 */
public record StoredMessage(String id, JsonText json, long position, Instant createTime) {}
