package io.vmpilot.conversation.bench;

import io.vmpilot.conversation.v1.Message;
import java.util.List;
import java.util.Random;

/**
 * The messages the workloads send: an agent turn's ~2 KB user message and ~2 KB assistant message with a tool
 * call, and small tool results for pre-filling long histories. Deterministic, JSON-safe and not trivially
 * compressible, so that every run and backend stores the same bytes.
 */
final class SyntheticMessages {
  static final int MESSAGE_BYTES = 2048;
  private static final String FILLER;

  static {
    Random random = new Random(42);
    String[] words = {"the", "agent", "reads", "file", "src/main/App.java", "and", "runs", "tests", "error:",
        "expected", "value", "at", "line", "42", "patch", "applied", "build", "ok", "refactor", "function"};
    StringBuilder sb = new StringBuilder();
    while (sb.length() < 64 * 1024) {
      sb.append(words[random.nextInt(words.length)]).append(' ');
    }
    FILLER = sb.toString();
  }

  private final boolean withIds;

  /**
   * @param withIds whether a turn's messages carry client ids, as a client that retries safely sends them (VMPilot
   *     sends none)
   */
  SyntheticMessages(boolean withIds) {
    this.withIds = withIds;
  }

  /** The messages of one agent turn: a user message and an assistant message, ids {@code prefix-u/a turn}. */
  List<Message> turn(String prefix, long turn) {
    return List.of(turnMessage(prefix + "-u" + turn, userMessage(turn * 2)),
        turnMessage(prefix + "-a" + turn, assistantMessage(turn * 2 + 1)));
  }

  private Message turnMessage(String id, String json) {
    return withIds ? withId(id, json) : Message.newBuilder().setJson(json).build();
  }

  static Message withId(String id, String json) {
    return Message.newBuilder().setId(id).setJson(json).build();
  }

  /** A ~2 KB user message. */
  static String userMessage(long seed) {
    String head = "{\"role\":\"user\",\"content\":\"";
    return head + text(seed, MESSAGE_BYTES - head.length() - 2) + "\"}";
  }

  /** A ~2 KB assistant message with one tool call. */
  static String assistantMessage(long seed) {
    String head = "{\"role\":\"assistant\",\"content\":\"";
    String call = "\",\"tool_calls\":[{\"id\":\"call_" + seed + "\",\"type\":\"function\",\"function\":"
        + "{\"name\":\"edit_file\",\"arguments\":\"{\\\"path\\\":\\\"src/main/App.java\\\",\\\"patch\\\":\\\"";
    String tail = "\\\"}\"}}]}";
    int room = MESSAGE_BYTES - head.length() - call.length() - tail.length();
    return head + text(seed, room / 2) + call + text(seed + 1, room - room / 2) + tail;
  }

  /** A small (~300 byte) message for pre-filling long histories. */
  static String smallMessage(long seed) {
    String head = "{\"role\":\"tool\",\"content\":\"";
    return head + text(seed, 300 - head.length() - 2) + "\"}";
  }

  /** About {@code bytes} of text, starting at a place that depends on {@code seed}. */
  private static String text(long seed, int bytes) {
    int start = (int) Math.floorMod(seed * 7919, FILLER.length() - bytes - 1);
    return FILLER.substring(start, start + bytes);
  }
}
