package io.vmpilot.conversation.bench;

import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/** W2: the seed's pattern, a Save of the full history every turn, the history growing by 2 messages a turn. */
final class SeedSave extends Workload {
  /** A bounded history keeps the request size bounded; past it a client goes on in a fresh conversation. */
  static final int MAX_MESSAGES = 200;
  private final List<List<Message>> histories = new ArrayList<>();
  private final ClientConversations conversations;
  private final LongAdder historySizes = new LongAdder();
  private final LongAdder saves = new LongAdder();
  private final SyntheticMessages messages;

  SeedSave(int clients, String runId, SyntheticMessages messages) {
    super("W2", clients);
    this.messages = messages;
    this.conversations = new ClientConversations(runId + "-W2-", clients);
    for (int c = 0; c < clients; c++) {
      histories.add(new ArrayList<>());
    }
  }

  @Override
  void op(int c, ConversationServiceBlockingStub stub) {
    List<Message> history = histories.get(c);
    if (history.size() >= MAX_MESSAGES) {
      history.clear();
      conversations.moveOn(c);
    }
    long turn = history.size() / 2;
    history.addAll(messages.turn("t", turn));
    SaveRequest save = SaveRequest.newBuilder().setThreadId(conversations.current(c))
        .addAllMessages(history).putCacheInfo("input_tokens", 1000 + turn * 700).build();
    stub.save(save);
    requestBytes.add(save.getSerializedSize());
    historySizes.add(history.size());
    saves.increment();
  }

  @Override
  void finish() {
    long n = saves.sum();
    note = n == 0 ? "" : String.format(Locale.ROOT, "avg history %.0f msgs, %.0f KB sent per Save",
        (double) historySizes.sum() / n, requestBytes.sum() / 1024.0 / n);
  }
}
