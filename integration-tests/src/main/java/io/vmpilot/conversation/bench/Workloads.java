package io.vmpilot.conversation.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The workloads of docs/benchmark.md by name (W1, W1-1rpc, W2..W5; W6 is CreationAtScale's), for one run:
 * {@code runId} keeps its conversations apart from those of other runs against the same server.
 */
record Workloads(String runId, SyntheticMessages messages, int clients, int w1MessagesPerConversation,
    int w5MessagesPerConversation) {
  static final List<String> NAMES = List.of("W1", "W1-1RPC", "W2", "W3", "W4", "W5", "W6");
  /** W5's clients, whatever {@code --clients} says: issue 4 defines the hot thread with 16. */
  static final int HOT_THREAD_CLIENTS = 16;

  /** The rows a workload name stands for (W3 and W4 have several). */
  List<Workload> named(String w) {
    return switch (w) {
      case "W1" -> List.of(new AgentTurn("W1", clients, 0, w1MessagesPerConversation, runId, messages));
      // W1's turn as one Append carrying the counters (AppendRequest.cache_info), to set against W1's two RPCs.
      case "W1-1RPC" -> List.of(new AgentTurn("W1-1rpc", clients, 0, w1MessagesPerConversation, runId, messages,
          true));
      case "W2" -> List.of(new SeedSave(clients, runId, messages));
      case "W3" -> List.of(new HistoryRead("W3-get-all", clients, 0, runId + "-W3", messages),
          new HistoryRead("W3-newest-20", clients, 20, runId + "-W3", messages));
      case "W4" -> List.of(growth("W4-10", 10), growth("W4-1000", 1000), growth("W4-10000", 10_000));
      case "W5" -> List.of(new HotThread(HOT_THREAD_CLIENTS, runId, messages, w5MessagesPerConversation));
      // W6 seeds a database per size and runs on servers of its own (Benchmark.runScale, CreationAtScale).
      case "W6" -> throw new IllegalArgumentException("W6 runs on servers of its own, not on a shared one");
      default -> throw new IllegalArgumentException("unknown workload " + w);
    };
  }

  /**
   * The pause workload: W1's turns by {@code pauseClients} clients, back to back (row W1-b2b) and then pausing
   * {@code pause} before each turn (rows W1-pause-100ms, ...), each on conversations of its own.
   */
  List<Workload> paused(int pauseClients, List<Duration> pauses) {
    List<Workload> rows = new ArrayList<>();
    rows.add(new AgentTurn("W1-b2b", pauseClients, 0, w1MessagesPerConversation, runId, messages));
    for (Duration pause : pauses) {
      AgentTurn w = new AgentTurn("W1-pause-" + DurationConverter.format(pause), pauseClients, 0,
          w1MessagesPerConversation, runId, messages);
      w.pause = pause;
      rows.add(w);
    }
    return rows;
  }

  /** W1's turns, for the server warm-up. */
  AgentTurn warmUpTurns() {
    return new AgentTurn("warm-up", clients, 0, w1MessagesPerConversation, runId, messages);
  }

  /** W3's newest-20 reads by 4 clients, for the server warm-up, on a conversation of their own. */
  HistoryRead warmUpReads() {
    return new HistoryRead("warm-up-read", 4, 20, runId + "-warm-up", messages);
  }

  /** A W4 row: W1's turns on conversations pre-filled with {@code prefill} messages, growing all run. */
  private AgentTurn growth(String name, int prefill) {
    return new AgentTurn(name, clients, prefill, 0, runId, messages);
  }
}
