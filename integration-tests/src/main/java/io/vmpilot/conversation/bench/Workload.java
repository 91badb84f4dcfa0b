package io.vmpilot.conversation.bench;

import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/**
 * A workload: a setup (not timed), then operations by each of its clients, each client on its own thread; one op
 * is one timed unit. Implementations keep per-client state in arrays indexed by the client number, which only that
 * client's thread touches.
 */
abstract class Workload {
  final String name;
  final int clients;
  /** Ops retried after ABORTED (W5), counted over the measured phase. */
  final LongAdder retries = new LongAdder();
  /** Serialized request bytes sent, counted over the measured phase. */
  final LongAdder requestBytes = new LongAdder();
  /**
   * How long each client waits before each op, untimed: an agent's wait for its model between turns (the pause
   * workload); zero for a closed loop.
   */
  Duration pause = Duration.ZERO;
  /** What the row's notes say about what was measured; set by {@link #finish()}. */
  String note = "";

  Workload(String name, int clients) {
    this.name = name;
    this.clients = clients;
  }

  void setup(ConversationServiceBlockingStub stub) {}

  /** One operation of client {@code c}. */
  abstract void op(int c, ConversationServiceBlockingStub stub);

  /**
   * Whether client {@code c}'s ops are the ones timed and counted (all by default). W6's bystander is not: its
   * Appends are what the creations cost others, reported apart ({@link #complete}).
   */
  boolean timed(int c) {
    return true;
  }

  /** Called once the warm-up is over, right before the measured phase: forgets what the warm-up counted. */
  void startMeasuring() {
    retries.reset();
    requestBytes.reset();
  }

  /** Called after the measured phase, e.g. to describe what was measured. */
  void finish() {}

  /** The measured phase's row, with whatever figures of its own this workload adds (none by default). */
  Result complete(Result row) {
    return row;
  }
}
