package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The memory backend under a write flood in a small heap (issue 23: at -Xmx128m it got OutOfMemoryErrors on the
 * network threads and the health thread, and did not recover). With the budget's default, half the heap, writes
 * are refused with RESOURCE_EXHAUSTED (STORAGE_FULL) before the heap is full, the server stays SERVING and reads
 * answer byte for byte, and a Clear makes room for the next write.
 */
class MemoryBudgetIT {
  private static final int MESSAGE_CHARS = 256 * 1024;
  /** Appends per conversation: 4 MiB each, well under the 32 MiB history limit. */
  private static final int PER_CONVERSATION = 16;

  private static Message message(int n) {
    // Distinct text per message, so that a Get returning the wrong one is seen.
    String filler = Integer.toString(n, 36);
    String text = filler.repeat(MESSAGE_CHARS / filler.length() + 1).substring(0, MESSAGE_CHARS);
    return Message.newBuilder().setId("m" + n).setJson("{\"n\":" + n + ",\"text\":\"" + text + "\"}").build();
  }

  private static String thread(int n) {
    return "flood-" + n / PER_CONVERSATION;
  }

  private static AppendRequest append(int n) {
    return AppendRequest.newBuilder().setThreadId(thread(n)).addMessages(message(n)).build();
  }

  @Test
  void aWriteFloodInASmallHeapIsRefusedWithStorageFullAndTheServerKeepsServing() throws Exception {
    List<String> jvm = new ArrayList<>(List.of("-Xmx128m"));
    jvm.addAll(Rpc.FAST_START_JVM);
    try (ServerProcess server = ServerProcess.launch(List.of(), jvm, List.of("--database-backend", "memory",
        "--metrics-enabled", "true", "--metrics-port", "0"), null,
        Map.of())) {
      ManagedChannel channel = Rpc.channel(server.target());
      ConversationServiceBlockingStub stub = Rpc.stub(channel);
      StatusRuntimeException refusal = null;
      int written = 0;
      // Twice the heap in messages: far more than a 128 MiB heap holds.
      int most = 2 * (128 << 20) / MESSAGE_CHARS;
      while (written < most) {
        try {
          stub.withDeadlineAfter(Rpc.DEADLINE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)
              .append(append(written));
          written++;
        } catch (StatusRuntimeException e) {
          refusal = e;
          break;
        }
      }
      System.out.printf("memory budget: %d appends of %d KiB before the refusal: %s%n", written,
          MESSAGE_CHARS >> 10, refusal == null ? "none" : refusal.getStatus());
      assertThat(refusal).as("a write refused within %d appends of %d KiB", most, MESSAGE_CHARS >> 10).isNotNull();
      assertThat(refusal.getStatus().getCode()).as(refusal.getStatus().toString())
          .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(Rpc.errorInfo(refusal).map(ErrorInfo::getReason)).contains("STORAGE_FULL");
      assertThat(refusal.getStatus().getDescription()).contains("[memory] max_bytes").doesNotContain("\"text\"");
      // Half of a 128 MiB heap, at most, is what the budget lets the store hold.
      assertThat(written).isGreaterThan(PER_CONVERSATION).isLessThan(64 * (1 << 20) / MESSAGE_CHARS + 1);

      assertThat(Rpc.health(channel)).isEqualTo(ServingStatus.SERVING);
      // The budget is half the heap's maximum (what Runtime.maxMemory() says, a little under -Xmx), and held.
      String scrape = PrometheusScrape.of(server.metricsUrl());
      double limit = PrometheusScrape.value(scrape, "conversation_memory_store_limit_bytes");
      assertThat(limit).isBetween(48.0 * (1 << 20), 64.0 * (1 << 20));
      assertThat(server.output()).contains("memory backend: holds at most about " + (long) limit + " bytes");
      assertThat(PrometheusScrape.value(scrape, "conversation_memory_store_bytes")).isBetween(limit * 0.9, limit);
      var first = stub.get(GetRequest.newBuilder().setThreadId(thread(0)).build()).getConversation();
      assertThat(first.getMessagesCount()).isEqualTo(PER_CONVERSATION);
      for (int i = 0; i < PER_CONVERSATION; i++) {
        assertThat(first.getMessages(i).getJson()).as("message %d", i).isEqualTo(message(i).getJson());
      }

      // Again refused, with nothing freed; then a Clear of the first conversation makes room.
      StatusRuntimeException again = null;
      try {
        stub.append(append(written));
      } catch (StatusRuntimeException e) {
        again = e;
      }
      assertThat(again).isNotNull();
      assertThat(Rpc.errorInfo(again).map(ErrorInfo::getReason)).contains("STORAGE_FULL");
      assertThat(stub.clear(ClearRequest.newBuilder().setThreadId(thread(0)).build()).getDeleted())
          .isTrue();
      assertThat(stub.append(append(written)).getAppendedCount()).isEqualTo(1);
      assertThat(Rpc.health(channel)).isEqualTo(ServingStatus.SERVING);
      assertThat(server.output()).doesNotContain("OutOfMemoryError");
      assertThat(server.isAlive()).isTrue();
      Rpc.close(channel);
    }
  }
}
