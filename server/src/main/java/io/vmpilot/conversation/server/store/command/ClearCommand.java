package io.vmpilot.conversation.server.store.command;

import io.vmpilot.conversation.server.store.ThreadKey;
import java.util.OptionalLong;

/** Delete a conversation, if there is one (a clear of nothing succeeds unless a version was expected). */
public record ClearCommand(ThreadKey key, OptionalLong expectedVersion) {}
