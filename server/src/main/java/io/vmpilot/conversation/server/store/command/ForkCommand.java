package io.vmpilot.conversation.server.store.command;

import io.vmpilot.conversation.server.store.ThreadKey;
import java.util.OptionalLong;

/**
 * Copy the messages of {@code source} before {@code endPosition} (all of them when empty) and its metadata into
 * {@code target}, a conversation that must not exist yet, in the same tenant.
 *
 * @param expectedVersion the source's version the caller expects, if any
 */
public record ForkCommand(ThreadKey source, ThreadKey target, OptionalLong endPosition, OptionalLong expectedVersion) {
  public ForkCommand {
    if (!source.tenant().equals(target.tenant())) {
      throw new IllegalArgumentException("a fork stays in its tenant");
    }
  }
}
