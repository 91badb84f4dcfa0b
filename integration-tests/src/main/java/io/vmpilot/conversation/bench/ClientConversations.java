package io.vmpilot.conversation.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Each client's own conversation, and the ones it moved on from: a workload whose conversations must not grow
 * without bound (W1 under the history limit, W2's bounded Save requests) gives a client a new one now and then.
 * Only client c's thread touches client c's entry.
 */
final class ClientConversations {
  private final String prefix;
  /** Client c writes to its {@code generation[c]}-th conversation. */
  private final int[] generation;

  /** {@code prefix}: what the thread ids start with, e.g. runId + "-W1-"; a client's first is prefix + c. */
  ClientConversations(String prefix, int clients) {
    this.prefix = prefix;
    this.generation = new int[clients];
  }

  /** The thread id client c writes to now. */
  String current(int c) {
    return thread(c, generation[c]);
  }

  /** Client c goes on in a new conversation. */
  void moveOn(int c) {
    generation[c]++;
  }

  /** Every conversation of client c so far, oldest first. */
  List<String> all(int c) {
    List<String> threads = new ArrayList<>();
    for (int g = 0; g <= generation[c]; g++) {
      threads.add(thread(c, g));
    }
    return threads;
  }

  /** How many conversations the clients have used in all. */
  int count() {
    return Arrays.stream(generation).map(g -> g + 1).sum();
  }

  /** Client c starts over at its first conversation. */
  void reset(int c) {
    generation[c] = 0;
  }

  private String thread(int c, int g) {
    return prefix + c + (g == 0 ? "" : "-" + g);
  }
}
