package io.vmpilot.conversation.server.store.command;

import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Replace a conversation's history (creating it if needed); merge {@code cacheInfo} and {@code metadata} over
 * what is stored; change its expire time as {@code expiry} says. Ids of {@code messages} that are set are unique (the service layer checks).
 */
public record SaveCommand(
    ThreadKey key,
    List<NewMessage> messages,
    Map<String, Long> cacheInfo,
    Map<String, String> metadata,
    OptionalLong expectedVersion,
    ExpiryChange expiry) {

  /** A Save that leaves the conversation's expire time as it is. */
  public SaveCommand(ThreadKey key, List<NewMessage> messages, Map<String, Long> cacheInfo,
      Map<String, String> metadata, OptionalLong expectedVersion) {
    this(key, messages, cacheInfo, metadata, expectedVersion, ExpiryChange.KEEP);
  }

  public SaveCommand {
    Objects.requireNonNull(expiry, "expiry");
    messages = List.copyOf(messages);
    cacheInfo = Map.copyOf(cacheInfo);
    metadata = Map.copyOf(metadata);
  }
}
