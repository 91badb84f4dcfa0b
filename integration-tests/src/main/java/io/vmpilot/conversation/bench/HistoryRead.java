package io.vmpilot.conversation.bench;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.GetRequest;

/** W3: Get of a 1,000-message conversation, whole ({@code maxMessages} 0) or only its newest messages. */
final class HistoryRead extends Workload {
  static final int HISTORY_MESSAGES = 1000;
  private final String thread;
  private final int maxMessages;
  private final SyntheticMessages messages;

  /** Rows on the same {@code thread} share one conversation: the first to set up writes it. */
  HistoryRead(String name, int clients, int maxMessages, String thread, SyntheticMessages messages) {
    super(name, clients);
    this.maxMessages = maxMessages;
    this.thread = thread;
    this.messages = messages;
  }

  @Override
  void setup(ConversationServiceBlockingStub stub) {
    GetRequest probe = GetRequest.newBuilder().setThreadId(thread).setMaxMessages(1).build();
    try {
      stub.get(probe);
      return; // another row created it already
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        throw e;
      }
    }
    int turns = HISTORY_MESSAGES / 2;
    for (int turn = 0; turn < turns; turn += 100) {
      AppendRequest.Builder b = AppendRequest.newBuilder().setThreadId(thread);
      for (int t = turn; t < turn + 100; t++) {
        b.addAllMessages(messages.turn("t", t));
      }
      stub.append(b.build());
    }
  }

  @Override
  void op(int c, ConversationServiceBlockingStub stub) {
    int got = stub.get(GetRequest.newBuilder().setThreadId(thread).setMaxMessages(maxMessages).build())
        .getConversation().getMessagesCount();
    int expected = maxMessages == 0 ? HISTORY_MESSAGES : maxMessages;
    if (got != expected) {
      throw new IllegalStateException("Get returned " + got + " messages, expected " + expected);
    }
  }
}
