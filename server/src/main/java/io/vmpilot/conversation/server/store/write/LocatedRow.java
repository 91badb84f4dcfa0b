package io.vmpilot.conversation.server.store.write;

import java.util.Set;

/**
 * What {@link StorageTransaction#locate} found: the conversation's row (null when there is none) and which of the
 * asked ids its stored messages carry (empty without a row).
 */
public record LocatedRow(ConversationRow row, Set<String> storedIds) {}
