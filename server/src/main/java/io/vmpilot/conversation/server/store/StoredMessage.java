package io.vmpilot.conversation.server.store;

import java.time.Instant;

/** A message as stored: its 0-based position in the history and when it was stored. */
public record StoredMessage(String id, String json, long position, Instant createTime) {}
