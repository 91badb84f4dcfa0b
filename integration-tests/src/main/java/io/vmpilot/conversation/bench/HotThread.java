package io.vmpilot.conversation.bench;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vmpilot.conversation.client.ConversationStoreException;
import io.vmpilot.conversation.client.VersionConflictException;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.AppendResponse;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.Message;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;

/**
 * W5: the clients append to one conversation with expected_version, retrying on ABORTED. They move on together to
 * a new conversation every {@code messagesPerConversation} messages, so that a fast server does not run the
 * conversation into the history limit within the run.
 */
final class HotThread extends Workload {
  /** The conversation the clients race on now (the {@code generation}-th), and the newest version seen. */
  private record Hot(int generation, long version) {}

  /** Retries of one op after which the server is taken to be stuck rather than contended. */
  private static final int MAX_ATTEMPTS = 10_000;
  private final AtomicReference<Hot> hot = new AtomicReference<>();
  private final long[] turns;
  private final String runId;
  private final SyntheticMessages messages;
  private final int messagesPerConversation;

  HotThread(int clients, String runId, SyntheticMessages messages, int messagesPerConversation) {
    super("W5", clients);
    this.runId = runId;
    this.messages = messages;
    this.messagesPerConversation = messagesPerConversation;
    turns = new long[clients];
  }

  private String thread(int generation) {
    return runId + "-W5-" + generation;
  }

  @Override
  void setup(ConversationServiceBlockingStub stub) {
    AppendResponse r = stub.append(AppendRequest.newBuilder().setThreadId(thread(0))
        .addMessages(SyntheticMessages.withId("start", SyntheticMessages.userMessage(0))).build());
    hot.set(new Hot(0, r.getVersion()));
  }

  @Override
  void op(int c, ConversationServiceBlockingStub stub) {
    long turn = turns[c]++;
    List<Message> turnMessages = messages.turn("c" + c, turn);
    // Each client starts from the last version it saw anywhere (as if it had just read the thread). On a new
    // conversation that is 0: "only if it does not exist yet", so one client creates it and the others retry.
    Hot target = hot.get();
    long expected = target.version();
    for (int attempt = 0; ; attempt++) {
      try {
        AppendResponse r = stub.append(AppendRequest.newBuilder().setThreadId(thread(target.generation()))
            .addAllMessages(turnMessages).setExpectedVersion(expected).build());
        hot.updateAndGet(h -> h.generation() != target.generation() ? h
            : r.getMessageCount() >= messagesPerConversation ? new Hot(h.generation() + 1, 0)
            : new Hot(h.generation(), Math.max(h.version(), r.getVersion())));
        return;
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.ABORTED || attempt >= MAX_ATTEMPTS) {
          throw e;
        }
        retries.increment();
        if (!(ConversationStoreException.from(e) instanceof VersionConflictException conflict)) {
          throw e;
        }
        expected = conflict.currentVersion();
      }
    }
  }

  @Override
  void finish() {
    long ops = Arrays.stream(turns).sum();
    note = ops == 0 ? "" : String.format(Locale.ROOT, "%.2f retries per op, %d conversation(s)",
        (double) retries.sum() / ops, hot.get().generation() + 1);
  }
}
