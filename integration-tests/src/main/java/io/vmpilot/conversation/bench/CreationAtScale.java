package io.vmpilot.conversation.bench;

import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * W6 (issue 23, finding 1): what creating a conversation costs, and what an Append of another client costs
 * meanwhile, when the tenant already has {@code existing} conversations. {@link #CREATORS} clients create
 * conversations (a Save of one small message each, all in the one tenant): they are the row's timed ops. One more
 * client, the bystander, appends one small message at a time to a conversation of its own; its latencies are the
 * row's bystander figures. The existing conversations are put in before the server starts where the backend allows
 * it ({@link ScaleSeeding}: straight into SQLite's file or PostgreSQL's tables), else by {@link #setup} through the
 * server (the memory backend).
 */
final class CreationAtScale extends Workload {
  static final int CREATORS = 8;
  private static final Message CREATED = Message.newBuilder().setJson("{\"role\":\"user\",\"content\":\"hi\"}").build();
  private static final Message APPENDED = Message.newBuilder()
      .setJson("{\"role\":\"assistant\",\"content\":\"ok\"}").build();

  private final int existing;
  private final String prefix;
  /** How the existing conversations got there (for the note); null: {@link #setup} saves them through the server. */
  private String seeded;
  /** Creations of each creator so far (warm-up included), for new thread ids. */
  private final long[] created = new long[CREATORS];
  /** The bystander's Append latencies over the measured phase; only the bystander's thread records into it. */
  private final Histogram bystander = ClosedLoop.latencyHistogram();

  /**
   * {@code seeded}: how the {@code existing} conversations were put in before the server started, or null for
   * {@link #setup} to save them through the server.
   */
  CreationAtScale(String runId, int existing, String seeded) {
    super(rowName(existing), CREATORS + 1);
    this.existing = existing;
    this.seeded = seeded;
    this.prefix = runId + "-" + name + "-";
  }

  /** W6-10k, W6-1M, W6-1500: the row of a size. */
  static String rowName(int existing) {
    if (existing >= 1_000_000 && existing % 1_000_000 == 0) {
      return "W6-" + existing / 1_000_000 + "M";
    }
    return existing >= 1000 && existing % 1000 == 0 ? "W6-" + existing / 1000 + "k" : "W6-" + existing;
  }

  @Override
  void setup(ConversationServiceBlockingStub stub) {
    if (seeded == null) {
      seeded = ScaleSeeding.throughServer(stub, existing);
    }
  }

  @Override
  boolean timed(int c) {
    return c < CREATORS;
  }

  @Override
  void op(int c, ConversationServiceBlockingStub stub) {
    if (c < CREATORS) {
      stub.save(SaveRequest.newBuilder().setThreadId(prefix + c + "-" + created[c]++).addMessages(CREATED).build());
      return;
    }
    long t = System.nanoTime();
    stub.append(AppendRequest.newBuilder().setThreadId(prefix + "bystander").addMessages(APPENDED).build());
    bystander.recordValue(Math.min(System.nanoTime() - t, bystander.getHighestTrackableValue()));
  }

  @Override
  void startMeasuring() {
    super.startMeasuring();
    bystander.reset();
  }

  @Override
  Result complete(Result row) {
    double appendsPerSecond = bystander.getTotalCount() / row.seconds();
    double p50 = bystander.getValueAtPercentile(50) / 1e6;
    double p99 = bystander.getValueAtPercentile(99) / 1e6;
    return row.withNote(String.format(Locale.ROOT, "%,d existing (%s); %d creators; bystander Append p50 %.2f ms,"
        + " p99 %.2f ms, %.0f/s", existing, seeded, CREATORS, p50, p99, appendsPerSecond))
        .withBystander(appendsPerSecond, p50, p99);
  }
}
