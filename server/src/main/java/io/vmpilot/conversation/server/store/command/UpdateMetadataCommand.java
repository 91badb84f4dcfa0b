package io.vmpilot.conversation.server.store.command;

import io.vmpilot.conversation.server.store.ThreadKey;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Change an existing conversation's metadata and cache counters without touching its messages: set the entries of
 * {@code set} and {@code cacheSet}, delete the keys of {@code remove} and {@code cacheRemove} (keys not stored are
 * ignored); change its expire time as {@code expiry} says. A key is never both set and removed (the service layer checks).
 */
public record UpdateMetadataCommand(
    ThreadKey key,
    Map<String, String> set,
    Set<String> remove,
    Map<String, Long> cacheSet,
    Set<String> cacheRemove,
    OptionalLong expectedVersion,
    ExpiryChange expiry) {

  /** An update that leaves the conversation's expire time as it is. */
  public UpdateMetadataCommand(ThreadKey key, Map<String, String> set, Set<String> remove,
      Map<String, Long> cacheSet, Set<String> cacheRemove, OptionalLong expectedVersion) {
    this(key, set, remove, cacheSet, cacheRemove, expectedVersion, ExpiryChange.KEEP);
  }

  public UpdateMetadataCommand {
    Objects.requireNonNull(expiry, "expiry");
    set = Map.copyOf(set);
    remove = Set.copyOf(remove);
    cacheSet = Map.copyOf(cacheSet);
    cacheRemove = Set.copyOf(cacheRemove);
  }
}
