package io.vmpilot.conversation.server.store.write;

import io.vmpilot.conversation.server.store.ChangeKind;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import java.time.Instant;
import java.util.List;

/**
 * A change-log entry as the write rules hand it to {@link StorageTransaction#logChange}; its fields mean what
 * those of {@link io.vmpilot.conversation.server.store.ChangeEvent} of the same names mean.
 */
public record LoggedChange(ThreadKey key, long version, ChangeKind kind, long firstPosition, long messageCount,
    List<NewMessage> messages, Instant commitTime) {}
