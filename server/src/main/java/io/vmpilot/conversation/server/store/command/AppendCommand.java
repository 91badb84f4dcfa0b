package io.vmpilot.conversation.server.store.command;

import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import java.util.List;
import java.util.OptionalLong;

/** Add messages at the end of a conversation (creating it if needed), skipping ids already stored. */
public record AppendCommand(ThreadKey key, List<NewMessage> messages, OptionalLong expectedVersion) {
  public AppendCommand {
    messages = List.copyOf(messages);
  }
}
