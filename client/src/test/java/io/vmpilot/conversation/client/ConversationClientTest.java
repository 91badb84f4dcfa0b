package io.vmpilot.conversation.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.AppendResponse;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.ConversationSummary;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.GetResponse;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.ListResponse;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.SaveResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client's own behaviour (retries, errors, paging, deadlines) against a scripted server on a real socket. */
class ConversationClientTest {
  private final AtomicInteger saveCalls = new AtomicInteger();
  private final AtomicInteger appendCalls = new AtomicInteger();
  private final List<String> pageTokensSeen = new ArrayList<>();
  private final List<AppendRequest> appendsSeen = new ArrayList<>();
  private Server server;
  private ConversationClient client;

  /** Fails Save twice with UNAVAILABLE, always refuses Append as a conflict, pages List, never answers Get "slow". */
  private final class ScriptedService extends ConversationServiceGrpc.ConversationServiceImplBase {
    @Override
    public void save(SaveRequest request, StreamObserver<SaveResponse> response) {
      if (saveCalls.incrementAndGet() <= 2) {
        response.onError(Status.UNAVAILABLE.withDescription("warming up").asRuntimeException());
        return;
      }
      response.onNext(SaveResponse.newBuilder().setVersion(7).setMessageCount(request.getMessagesCount()).build());
      response.onCompleted();
    }

    @Override
    public void append(AppendRequest request, StreamObserver<AppendResponse> response) {
      int call = appendCalls.incrementAndGet();
      synchronized (appendsSeen) {
        appendsSeen.add(request);
      }
      if (request.getThreadId().equals("flaky")) {
        if (call == 1) {
          response.onError(Status.UNAVAILABLE.withDescription("sync failed: outcome unknown").asRuntimeException());
        } else {
          response.onNext(AppendResponse.newBuilder().setVersion(8).build());
          response.onCompleted();
        }
        return;
      }
      response.onError(StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
          .setCode(Code.ABORTED_VALUE).setMessage("conversation moved on")
          .addDetails(Any.pack(ErrorInfo.newBuilder().setReason("VERSION_MISMATCH")
              .setDomain("conversation.vmpilot.io").putMetadata("current_version", "42").build()))
          .build()));
    }

    @Override
    public void get(GetRequest request, StreamObserver<GetResponse> response) {
      if (request.getThreadId().equals("slow")) {
        return; // never answers: the client's deadline must end the call
      }
      response.onError(Status.NOT_FOUND.asRuntimeException());
    }

    @Override
    public void list(ListRequest request, StreamObserver<ListResponse> response) {
      synchronized (pageTokensSeen) {
        pageTokensSeen.add(request.getPageToken());
      }
      int page = request.getPageToken().isEmpty() ? 0 : Integer.parseInt(request.getPageToken());
      ListResponse.Builder b = ListResponse.newBuilder();
      for (int i = 0; i < 2; i++) {
        b.addConversations(ConversationSummary.newBuilder().setThreadId("t" + (page * 2 + i)));
      }
      if (page < 2) {
        b.setNextPageToken(Integer.toString(page + 1));
      }
      response.onNext(b.build());
      response.onCompleted();
    }
  }

  @BeforeEach
  void start() throws Exception {
    server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .addService(new ScriptedService()).build().start();
    // Generous: connecting on a loaded CI machine can take seconds. everyCallHasADeadline uses a short one.
    client = ConversationClient.builder("127.0.0.1:" + server.getPort()).deadline(Duration.ofSeconds(30)).build();
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void unavailableIsRetriedUntilItSucceeds() {
    SaveResponse saved = client.save("t", List.of("{}", "{}"));
    assertThat(saved.getVersion()).isEqualTo(7);
    assertThat(saveCalls).hasValue(3);
  }

  @Test
  void everyAppendedMessageGetsAnIdSoThatARetryRepeatsTheSameIds() {
    client.append("flaky", List.of("{\"a\":1}", "{\"b\":2}"));
    assertThat(appendCalls).hasValue(2);
    List<String> first = appendsSeen.get(0).getMessagesList().stream().map(Message::getId).toList();
    assertThat(appendsSeen.get(1).getMessagesList()).extracting(Message::getId).isEqualTo(first);
    assertThat(first).doesNotHaveDuplicates().allSatisfy(id -> assertThat(UUID.fromString(id).version()).isEqualTo(7));
  }

  @Test
  void aTurnSendsItsCountersWithTheMessagesAndItsRetryTheSameRequest() {
    client.append("flaky", List.of("{\"u\":1}", "{\"a\":1}"), Map.of("input_tokens", 1200L, "output_tokens", 85L));
    assertThat(appendCalls).hasValue(2);
    AppendRequest sent = appendsSeen.get(0);
    assertThat(sent.getCacheInfoMap()).isEqualTo(Map.of("input_tokens", 1200L, "output_tokens", 85L));
    assertThat(sent.getMessagesList()).extracting(Message::getJson).containsExactly("{\"u\":1}", "{\"a\":1}");
    assertThat(sent.getMessagesList()).allSatisfy(m -> assertThat(m.getId()).isNotEmpty());
    assertThat(appendsSeen.get(1)).isEqualTo(sent);
  }

  @Test
  void idsTheCallerSetAreKept() {
    client.append(AppendRequest.newBuilder().setThreadId("flaky")
        .addMessages(ConversationClient.message("mine", "{}")).addMessages(ConversationClient.message("{}")).build());
    assertThat(appendsSeen.get(0).getMessages(0).getId()).isEqualTo("mine");
    assertThat(appendsSeen.get(0).getMessages(1).getId()).isNotEmpty().isNotEqualTo("mine");
  }

  @Test
  void aVersionConflictIsNeverRetriedAndCarriesTheCurrentVersion() {
    assertThatThrownBy(() -> client.append("t", List.of("{}")))
        .isInstanceOfSatisfying(VersionConflictException.class, e -> {
          assertThat(e.currentVersion()).isEqualTo(42);
          assertThat(e.code()).isEqualTo(Status.Code.ABORTED);
          assertThat(e.reason()).isEqualTo("VERSION_MISMATCH");
        });
    assertThat(appendCalls).hasValue(1);
  }

  @Test
  void notFoundIsAnEmptyOptional() {
    assertThat(client.get("missing")).isEmpty();
  }

  @Test
  void everyCallHasADeadline() {
    try (ConversationClient impatient = ConversationClient.builder("127.0.0.1:" + server.getPort())
        .deadline(Duration.ofSeconds(1)).build()) {
      assertThatThrownBy(() -> impatient.get("slow"))
          .isInstanceOfSatisfying(ConversationStoreException.class,
              e -> assertThat(e.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    }
  }

  @Test
  void listWalksEveryPageLazily() {
    var iterator = client.list().iterator();
    assertThat(iterator.next().getThreadId()).isEqualTo("t0");
    assertThat(pageTokensSeen).containsExactly("");
    List<String> rest = new ArrayList<>();
    iterator.forEachRemaining(s -> rest.add(s.getThreadId()));
    assertThat(rest).containsExactly("t1", "t2", "t3", "t4", "t5");
    assertThat(pageTokensSeen).containsExactly("", "1", "2");
  }
}
