package io.vmpilot.conversation.bench;

import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.UpdateCacheRequest;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * W1 (and W4): an agent turn, Append of 2 messages then UpdateCache, each client on its own conversation; W1-1rpc
 * sends the same counters in the Append instead (AppendRequest.cache_info), so the turn is one call. W4's rows
 * pre-fill each conversation with {@code prefill} messages first. W1's clients go on in a new conversation of their
 * own once theirs holds {@code maxMessages}, so that a fast server with few clients does not run them into the
 * history limit within the run (W4's do not: the length of their conversations is what W4 measures).
 */
final class AgentTurn extends Workload {
  private final ClientConversations conversations;
  /** Turns of client c in its current conversation. */
  private final long[] turnsInConversation;
  private final int prefill;
  private final int maxMessages;
  private final SyntheticMessages messages;
  /** Whether the counters ride in the Append (one RPC) rather than in an UpdateCache after it (two). */
  private final boolean oneCall;

  /** {@code maxMessages}: move on to a new conversation at this many messages; 0 = never. */
  AgentTurn(String name, int clients, int prefill, int maxMessages, String runId, SyntheticMessages messages) {
    this(name, clients, prefill, maxMessages, runId, messages, false);
  }

  AgentTurn(String name, int clients, int prefill, int maxMessages, String runId, SyntheticMessages messages,
      boolean oneCall) {
    super(name, clients);
    this.oneCall = oneCall;
    this.prefill = prefill;
    this.maxMessages = maxMessages;
    this.messages = messages;
    this.conversations = new ClientConversations(runId + "-" + name + "-", clients);
    this.turnsInConversation = new long[clients];
  }

  /** Client c's conversation for its next turn. */
  private String nextThread(int c) {
    if (maxMessages > 0 && prefill + 2 * (turnsInConversation[c] + 1) > maxMessages) {
      conversations.moveOn(c);
      turnsInConversation[c] = 0;
    }
    return conversations.current(c);
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
        AppendRequest.Builder b = AppendRequest.newBuilder().setThreadId(conversations.current(c));
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
    String thread = nextThread(c);
    long turn = turnsInConversation[c]++;
    Map<String, Long> counters = Map.of(
        "input_tokens", 1000 + turn * 700,
        "output_tokens", 200 + turn * 100,
        "cache_read_input_tokens", turn * 650);
    AppendRequest.Builder append = AppendRequest.newBuilder().setThreadId(thread)
        .addAllMessages(messages.turn("t", turn));
    if (oneCall) {
      AppendRequest turnRequest = append.putAllCacheInfo(counters).build();
      stub.append(turnRequest);
      requestBytes.add(turnRequest.getSerializedSize());
      return;
    }
    AppendRequest appendRequest = append.build();
    stub.append(appendRequest);
    UpdateCacheRequest cache = UpdateCacheRequest.newBuilder().setThreadId(thread).putAllCacheInfo(counters).build();
    stub.updateCache(cache);
    requestBytes.add(appendRequest.getSerializedSize() + cache.getSerializedSize());
  }

  /** Deletes the conversations the turns wrote, so that the next turn starts a new one. */
  void clear(ConversationServiceBlockingStub stub) {
    for (int c = 0; c < clients; c++) {
      for (String thread : conversations.all(c)) {
        stub.clear(ClearRequest.newBuilder().setThreadId(thread).build());
      }
      conversations.reset(c);
      turnsInConversation[c] = 0;
    }
  }

  @Override
  void finish() {
    // The histories grow during the run; say by how much, or into how many conversations (warm-up included) when
    // the clients moved on to new ones.
    long most = Arrays.stream(turnsInConversation).max().orElse(0);
    note = prefill == 0 ? "" : String.format(Locale.ROOT, "histories %d..%d msgs", prefill, prefill + 2 * most);
    if (conversations.count() > clients) {
      note = String.format(Locale.ROOT, "%d conversations of up to %d msgs", conversations.count(), maxMessages);
    }
  }
}
