package io.vmpilot.conversation.server.store;

import java.time.Instant;
import java.util.Objects;

/** A message of an imported conversation: the message and the time it was first stored, kept as it was. */
public record ImportedMessage(NewMessage message, Instant createTime) {
  public ImportedMessage {
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(createTime, "createTime");
  }
}
