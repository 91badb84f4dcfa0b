package io.vmpilot.conversation.server.store;

import java.util.List;

/** A conversation with the window of messages that was asked for, oldest first. */
public record Conversation(ConversationSummary summary, List<StoredMessage> messages) {
  public Conversation {
    messages = List.copyOf(messages);
  }
}
