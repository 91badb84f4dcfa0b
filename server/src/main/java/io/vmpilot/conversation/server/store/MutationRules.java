package io.vmpilot.conversation.server.store;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

/** The rules every backend applies the same way before it changes a conversation. */
public final class MutationRules {
  private MutationRules() {}

  /** Fails when an expected version was given and differs from the current one (0 = does not exist). */
  public static void checkVersion(ThreadKey key, OptionalLong expected, long current) {
    if (expected.isPresent() && expected.getAsLong() != current) {
      throw new VersionMismatchException(key, expected.getAsLong(), current);
    }
  }

  public static void checkHistorySize(ThreadKey key, long limitBytes, long resultingBytes) {
    if (resultingBytes > limitBytes) {
      throw new HistoryTooLargeException(key, limitBytes, resultingBytes);
    }
  }

  /**
   * Fails when creating a conversation would give its tenant more than {@code limit}; {@code existing} is how
   * many the tenant has before the creation.
   */
  public static void checkConversationLimit(ThreadKey key, long limit, long existing) {
    if (existing >= limit) {
      throw new TenantConversationLimitException(key, limit);
    }
  }

  /** How many leading messages of {@code incoming} are already stored, unchanged, at the same positions. */
  public static int commonPrefix(List<StoredMessage> stored, List<NewMessage> incoming) {
    int n = Math.min(stored.size(), incoming.size());
    int i = 0;
    while (i < n && incoming.get(i).sameAs(stored.get(i))) {
      i++;
    }
    return i;
  }

  public static long totalBytes(List<NewMessage> messages) {
    long total = 0;
    for (NewMessage m : messages) {
      total += m.utf8Bytes();
    }
    return total;
  }

  /**
   * The messages of an append that must be stored: those without an id, and those whose id is neither in
   * {@code storedIds} nor earlier in the request.
   */
  public static List<NewMessage> newMessagesOfAppend(List<NewMessage> incoming, Set<String> storedIds) {
    List<NewMessage> fresh = new ArrayList<>(incoming.size());
    Set<String> seen = new HashSet<>();
    for (NewMessage m : incoming) {
      if (!m.hasId() || (!storedIds.contains(m.id()) && seen.add(m.id()))) {
        fresh.add(m);
      }
    }
    return fresh;
  }

  /**
   * True when the request is a replay of an append that was already stored: every message carries an id that
   * is stored. Such a retry succeeds without a version check, since the version moved because of it.
   */
  public static boolean isReplay(List<NewMessage> incoming, Set<String> storedIds) {
    for (NewMessage m : incoming) {
      if (!m.hasId() || !storedIds.contains(m.id())) {
        return false;
      }
    }
    return !incoming.isEmpty();
  }
}
