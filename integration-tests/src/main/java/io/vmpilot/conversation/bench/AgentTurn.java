package io.vmpilot.conversation.bench;

import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.UpdateCacheRequest;
import java.util.Arrays;
import java.util.Locale;

/**
 * W1 (and W4): an agent turn, Append of 2 messages then UpdateCache, each client on its own conversation. W4's rows
 * pre-fill each conversation with {@code prefill} messages first.
 */
final class AgentTurn extends Workload {
  private final String[] threads;
  private final long[] turns;
  private final int prefill;
  private final SyntheticMessages messages;

  AgentTurn(String name, int clients, int prefill, String runId, SyntheticMessages messages) {
    super(name, clients);
    this.prefill = prefill;
    this.messages = messages;
    this.threads = new String[clients];
    this.turns = new long[clients];
    for (int c = 0; c < clients; c++) {
      threads[c] = runId + "-" + name + "-" + c;
    }
  }

  @Override
  void setup(ConversationServiceBlockingStub stub) {
    if (prefill == 0) {
      return;
    }
    // Big Appends of small messages (pre-fill is not timed); W4's question is whether the number of
    // messages already stored changes a turn's cost.
    int batch = 1000;
    for (int c = 0; c < clients; c++) {
      for (int done = 0; done < prefill; ) {
        int n = Math.min(batch, prefill - done);
        AppendRequest.Builder b = AppendRequest.newBuilder().setThreadId(threads[c]);
        for (int i = 0; i < n; i++) {
          b.addMessages(SyntheticMessages.withId("p" + (done + i), SyntheticMessages.smallMessage(done + i)));
        }
        stub.append(b.build());
        done += n;
      }
      if ((c + 1) % 16 == 0 || c + 1 == clients) {
        System.out.printf("  %s: pre-filled %d of %d conversations with %d messages%n", name, c + 1, clients,
            prefill);
      }
    }
  }

  @Override
  void op(int c, ConversationServiceBlockingStub stub) {
    long turn = turns[c]++;
    AppendRequest append = AppendRequest.newBuilder().setThreadId(threads[c])
        .addAllMessages(messages.turn("t", turn)).build();
    stub.append(append);
    UpdateCacheRequest cache = UpdateCacheRequest.newBuilder().setThreadId(threads[c])
        .putCacheInfo("input_tokens", 1000 + turn * 700)
        .putCacheInfo("output_tokens", 200 + turn * 100)
        .putCacheInfo("cache_read_input_tokens", turn * 650)
        .build();
    stub.updateCache(cache);
    requestBytes.add(append.getSerializedSize() + cache.getSerializedSize());
  }

  /** Deletes the conversations the turns wrote, so that the next turn starts a new one. */
  void clear(ConversationServiceBlockingStub stub) {
    for (int c = 0; c < clients; c++) {
      stub.clear(ClearRequest.newBuilder().setThreadId(threads[c]).build());
      turns[c] = 0;
    }
  }

  @Override
  void finish() {
    // The histories grow during the run; say by how much.
    long most = Arrays.stream(turns).max().orElse(0);
    note = prefill == 0 ? "" : String.format(Locale.ROOT, "histories %d..%d msgs", prefill, prefill + 2 * most);
  }
}
