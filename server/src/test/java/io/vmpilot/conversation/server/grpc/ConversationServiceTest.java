package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest.FieldViolation;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.vmpilot.conversation.server.store.memory.MemoryConversationStore;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.AppendResponse;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.ConversationSummary;
import io.vmpilot.conversation.v1.ForkRequest;
import io.vmpilot.conversation.v1.ForkResponse;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.ListResponse;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.SaveResponse;
import io.vmpilot.conversation.v1.SearchRequest;
import io.vmpilot.conversation.v1.SearchResponse;
import io.vmpilot.conversation.v1.UpdateCacheRequest;
import io.vmpilot.conversation.v1.UpdateMetadataRequest;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The gRPC service over a memory store, through the in-process transport. */
class ConversationServiceTest {
  private static final long HISTORY_LIMIT = 2_000;
  private static final int JSON_DEPTH = 8;

  private MemoryConversationStore store;
  private InProcessConversationService service;
  private ConversationServiceBlockingStub stub;

  @BeforeEach
  void start() throws IOException {
    store = new MemoryConversationStore(HISTORY_LIMIT);
    RequestLimits limits = new RequestLimits(100, 1_000, JSON_DEPTH, 16, 1_024);
    service = new InProcessConversationService(store, limits, new TenantFromHeader());
    stub = service.stub;
  }

  @AfterEach
  void stop() throws InterruptedException {
    service.close();
    store.close();
  }

  // ---- helpers --------------------------------------------------------------------------------------------

  private static Message m(String id, String json) {
    return Message.newBuilder().setId(id).setJson(json).build();
  }

  private static Message m(String json) {
    return Message.newBuilder().setJson(json).build();
  }

  private static SaveRequest.Builder save(String threadId, Message... messages) {
    return SaveRequest.newBuilder().setThreadId(threadId).addAllMessages(List.of(messages));
  }

  private static AppendRequest.Builder append(String threadId, Message... messages) {
    return AppendRequest.newBuilder().setThreadId(threadId).addAllMessages(List.of(messages));
  }

  private Conversation get(String threadId) {
    return stub.get(GetRequest.newBuilder().setThreadId(threadId).build()).getConversation();
  }

  private ConversationServiceBlockingStub asTenant(String tenant) {
    return TenantFromHeader.as(stub, tenant);
  }

  /** The call's failure, with its google.rpc.Status. */
  private static com.google.rpc.Status failure(Runnable call) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
    assertThat(e).as("the call fails").isNotNull();
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    assertThat(status).as("rich status details").isNotNull();
    assertThat(status.getCode()).isEqualTo(e.getStatus().getCode().value());
    return status;
  }

  private static ErrorInfo errorInfo(com.google.rpc.Status status) {
    return status.getDetailsList().stream()
        .filter(d -> d.is(ErrorInfo.class))
        .map(d -> {
          try {
            return d.unpack(ErrorInfo.class);
          } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(e);
          }
        })
        .findFirst()
        .orElseThrow(() -> new AssertionError("no ErrorInfo in " + status));
  }

  private static List<FieldViolation> violations(com.google.rpc.Status status) {
    return status.getDetailsList().stream()
        .filter(d -> d.is(BadRequest.class))
        .map(d -> {
          try {
            return d.unpack(BadRequest.class);
          } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(e);
          }
        })
        .findFirst()
        .orElseThrow(() -> new AssertionError("no BadRequest in " + status))
        .getFieldViolationsList();
  }

  /** Asserts INVALID_ARGUMENT with ErrorInfo and a BadRequest naming {@code field}; returns the violations. */
  private static List<FieldViolation> assertInvalid(Runnable call, String field) {
    com.google.rpc.Status status = failure(call);
    assertThat(status.getCode()).isEqualTo(Code.INVALID_ARGUMENT_VALUE);
    ErrorInfo info = errorInfo(status);
    assertThat(info.getDomain()).isEqualTo("conversation.vmpilot.io");
    assertThat(info.getReason()).isEqualTo("INVALID_ARGUMENT");
    List<FieldViolation> violations = violations(status);
    assertThat(violations).extracting(FieldViolation::getField).contains(field);
    assertThat(violations).allSatisfy(v -> assertThat(v.getDescription()).isNotBlank());
    return violations;
  }

  private static ErrorInfo assertError(Runnable call, Code code, String reason) {
    com.google.rpc.Status status = failure(call);
    assertThat(status.getCode()).isEqualTo(code.getNumber());
    ErrorInfo info = errorInfo(status);
    assertThat(info.getDomain()).isEqualTo("conversation.vmpilot.io");
    assertThat(info.getReason()).isEqualTo(reason);
    assertThat(status.getMessage()).isNotBlank();
    return info;
  }

  // ---- happy paths ----------------------------------------------------------------------------------------

  @Test
  void everyRpcWorks() {
    Instant before = Instant.now().minusSeconds(1);
    SaveResponse saved = stub.save(save("t1", m("a", "{\"role\":\"user\",\"content\":\"hi\"}"),
        m("{\"role\":\"assistant\",\"content\":\"hello\"}"))
        .putCacheInfo("input_tokens", 10)
        .putMetadata("project_root", "/src/app")
        .build());
    assertThat(saved.getCreated()).isTrue();
    assertThat(saved.getMessageCount()).isEqualTo(2);
    assertThat(saved.getMessagesWritten()).isEqualTo(2);
    assertThat(saved.getVersion()).isPositive();

    Conversation c = get("t1");
    assertThat(c.getThreadId()).isEqualTo("t1");
    assertThat(c.getMessagesList()).extracting(Message::getJson)
        .containsExactly("{\"role\":\"user\",\"content\":\"hi\"}", "{\"role\":\"assistant\",\"content\":\"hello\"}");
    assertThat(c.getMessagesList()).extracting(Message::getId).containsExactly("a", "");
    assertThat(c.getMessagesList()).extracting(Message::getPosition).containsExactly(0L, 1L);
    assertThat(c.getMessages(0).getCreateTime().getSeconds()).isGreaterThanOrEqualTo(before.getEpochSecond());
    assertThat(c.getCacheInfoMap()).isEqualTo(Map.of("input_tokens", 10L));
    assertThat(c.getMetadataMap()).isEqualTo(Map.of("project_root", "/src/app"));
    assertThat(c.getVersion()).isEqualTo(saved.getVersion());
    assertThat(c.getMessageCount()).isEqualTo(2);
    assertThat(c.getHistoryBytes()).isEqualTo(
        "{\"role\":\"user\",\"content\":\"hi\"}".length() + "{\"role\":\"assistant\",\"content\":\"hello\"}".length());
    assertThat(c.getCreateTime().getSeconds()).isGreaterThanOrEqualTo(before.getEpochSecond());
    assertThat(c.getUpdateTime()).isEqualTo(c.getCreateTime());

    long v2 = stub.updateCache(UpdateCacheRequest.newBuilder().setThreadId("t1").putCacheInfo("output_tokens", 5)
        .setExpectedVersion(saved.getVersion()).build()).getVersion();
    assertThat(v2).isGreaterThan(saved.getVersion());
    assertThat(get("t1").getCacheInfoMap()).isEqualTo(Map.of("output_tokens", 5L));

    AppendResponse appended = stub.append(append("t1", m("b", "{\"n\":3}"), m("a", "{\"dup\":true}"))
        .setExpectedVersion(v2).build());
    assertThat(appended.getAppendedCount()).isEqualTo(1);
    assertThat(appended.getMessageCount()).isEqualTo(3);
    assertThat(appended.getCreated()).isFalse();
    assertThat(appended.getVersion()).isGreaterThan(v2);

    Conversation window = stub.get(GetRequest.newBuilder().setThreadId("t1").setMaxMessages(1).build())
        .getConversation();
    assertThat(window.getMessagesList()).extracting(Message::getJson).containsExactly("{\"n\":3}");
    assertThat(window.getMessages(0).getPosition()).isEqualTo(2);
    assertThat(window.getMessageCount()).isEqualTo(3);
    Conversation after = stub.get(GetRequest.newBuilder().setThreadId("t1").setStartPosition(1).build())
        .getConversation();
    assertThat(after.getMessagesList()).extracting(Message::getPosition).containsExactly(1L, 2L);

    ListResponse list = stub.list(ListRequest.newBuilder().putMetadataFilter("project_root", "/src/app").build());
    assertThat(list.getConversationsList()).extracting(ConversationSummary::getThreadId).containsExactly("t1");
    ConversationSummary s = list.getConversations(0);
    assertThat(s.getMessageCount()).isEqualTo(3);
    assertThat(s.getVersion()).isEqualTo(appended.getVersion());
    assertThat(s.getCacheInfoMap()).isEqualTo(Map.of("output_tokens", 5L));
    assertThat(s.getMetadataMap()).isEqualTo(Map.of("project_root", "/src/app"));
    assertThat(s.getHistoryBytes()).isEqualTo(get("t1").getHistoryBytes());
    assertThat(list.getNextPageToken()).isEmpty();

    assertThat(stub.clear(ClearRequest.newBuilder().setThreadId("t1").setExpectedVersion(appended.getVersion())
        .build()).getDeleted()).isTrue();
    assertThat(stub.clear(ClearRequest.newBuilder().setThreadId("t1").build()).getDeleted()).isFalse();
    assertThat(stub.list(ListRequest.getDefaultInstance()).getConversationsList()).isEmpty();
  }

  @Test
  void messagesTravelByteForByte() {
    List<String> texts = List.of(
        "{\"n\":9007199254740993,\"f\":10.0,\"i\":10}",
        "{\"s\":\"caf\\u00e9\",\"raw\":\"café 😀\"}",
        "{ \"ws\" :\t[ 1 ,\n 2 ] }");
    stub.save(save("verbatim", texts.stream().map(ConversationServiceTest::m).toArray(Message[]::new)).build());
    assertThat(get("verbatim").getMessagesList()).extracting(Message::getJson).containsExactlyElementsOf(texts);
    assertThat(get("verbatim").getHistoryBytes()).isEqualTo(
        texts.stream().mapToLong(t -> t.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).sum());
  }

  @Test
  void appendCreatesAndARetryIsSafe() {
    AppendRequest request = append("fresh", m("x", "{\"x\":1}"), m("y", "{\"y\":1}")).setExpectedVersion(0).build();
    AppendResponse first = stub.append(request);
    assertThat(first.getCreated()).isTrue();
    assertThat(first.getAppendedCount()).isEqualTo(2);
    AppendResponse retry = stub.append(request);
    assertThat(retry.getCreated()).isFalse();
    assertThat(retry.getAppendedCount()).isZero();
    assertThat(retry.getVersion()).isEqualTo(first.getVersion());
    assertThat(get("fresh").getMessagesList()).extracting(Message::getId).containsExactly("x", "y");
  }

  @Test
  void threadIdsAreCountedInCodePointsAndOtherwiseFree() {
    String emoji256 = "😀".repeat(256); // 512 UTF-16 chars, 256 characters
    String spaces = " a thread / with ? odd * chars ";
    stub.save(save(emoji256, m("{}")).build());
    stub.save(save(spaces, m("{}")).build());
    stub.save(save("256-" + "x".repeat(252), m("{}")).build());
    assertThat(get(emoji256).getThreadId()).isEqualTo(emoji256);
    assertThat(get(spaces).getThreadId()).isEqualTo(spaces);
    assertInvalid(() -> stub.save(save("😀".repeat(257), m("{}")).build()), "thread_id");
  }

  // ---- INVALID_ARGUMENT -----------------------------------------------------------------------------------

  @Test
  void invalidRequestsAreRejectedWithFieldViolationsAndChangeNothing() {
    stub.save(save("keep", m("k1", "{\"keep\":1}")).putCacheInfo("c", 1).putMetadata("m", "v").build());
    stub.save(save("other", m("{}")).build());
    Conversation before = get("keep");
    List<ConversationSummary> listBefore = stub.list(ListRequest.getDefaultInstance()).getConversationsList();

    // thread ids
    assertInvalid(() -> stub.save(save("", m("{}")).build()), "thread_id");
    assertInvalid(() -> stub.get(GetRequest.newBuilder().build()), "thread_id");
    assertInvalid(() -> stub.updateCache(UpdateCacheRequest.newBuilder().build()), "thread_id");
    assertInvalid(() -> stub.clear(ClearRequest.newBuilder().build()), "thread_id");
    assertInvalid(() -> stub.append(append("", m("{}")).build()), "thread_id");
    assertInvalid(() -> stub.save(save("x".repeat(257), m("{}")).build()), "thread_id");
    assertInvalid(() -> stub.clear(ClearRequest.newBuilder().setThreadId("k".repeat(257)).build()), "thread_id");
    assertInvalid(() -> stub.save(save("keep\n", m("{}")).build()), "thread_id");
    assertInvalid(() -> stub.append(append("ke\u0000ep", m("{}")).build()), "thread_id");
    assertInvalid(() -> stub.clear(ClearRequest.newBuilder().setThreadId("keep\u007f").build()), "thread_id");
    assertInvalid(() -> stub.get(GetRequest.newBuilder().setThreadId("keep\u0085").build()), "thread_id");

    // message JSON
    assertInvalid(() -> stub.save(save("keep", m("{\"a\":")).build()), "messages[0].json");
    assertInvalid(() -> stub.save(save("keep", m("{}"), m("[1,2]")).build()), "messages[1].json");
    assertInvalid(() -> stub.save(save("keep", m("\"just a string\"")).build()), "messages[0].json");
    assertInvalid(() -> stub.save(save("keep", m("42")).build()), "messages[0].json");
    assertInvalid(() -> stub.save(save("keep", m("null")).build()), "messages[0].json");
    assertInvalid(() -> stub.save(save("keep", m("")).build()), "messages[0].json");
    assertInvalid(() -> stub.save(save("keep", m("{} {}")).build()), "messages[0].json");
    assertInvalid(() -> stub.save(save("keep", m("{\"a\":1}garbage")).build()), "messages[0].json");
    assertInvalid(() -> stub.append(append("keep", m("{\"a\":1},")).build()), "messages[0].json");
    assertInvalid(() -> stub.save(save("keep", m(nested(JSON_DEPTH + 1))).build()), "messages[0].json");
    assertInvalid(() -> stub.append(append("keep", m("k2", "{\"a\":1"), m("k3", "{}")).build()), "messages[0].json");
    assertInvalid(() -> stub.save(save("keep", m("{\"big\":\"" + "x".repeat(1_000) + "\"}")).build()),
        "messages[0].json");

    // ids
    assertInvalid(() -> stub.save(save("keep", m("same", "{}"), m("same", "{}")).build()), "messages[1].id");
    assertInvalid(() -> stub.append(append("keep", m("i".repeat(257), "{}")).build()), "messages[0].id");

    // other fields
    assertInvalid(() -> stub.append(AppendRequest.newBuilder().setThreadId("keep").build()), "messages");
    assertInvalid(() -> stub.list(ListRequest.newBuilder().setPageSize(-1).build()), "page_size");
    assertInvalid(() -> stub.get(GetRequest.newBuilder().setThreadId("keep").setStartPosition(-1).build()),
        "start_position");
    assertInvalid(() -> stub.get(GetRequest.newBuilder().setThreadId("keep").setMaxMessages(-1).build()),
        "max_messages");
    assertInvalid(() -> stub.save(save("keep", m("{}")).setExpectedVersion(-1).build()), "expected_version");
    assertInvalid(() -> stub.updateCache(UpdateCacheRequest.newBuilder().setThreadId("keep").putCacheInfo("", 1)
        .build()), "cache_info");
    assertInvalid(() -> stub.save(save("keep", m("{}")).putMetadata("m", "v".repeat(1_025)).build()),
        "metadata[m]");

    // Every violation of a request is reported at once.
    List<FieldViolation> all = assertInvalid(
        () -> stub.save(save("", m("[]"), m("{}"), m("dup", "{}"), m("dup", "nope")).build()), "thread_id");
    assertThat(all).extracting(FieldViolation::getField)
        .contains("thread_id", "messages[0].json", "messages[3].id", "messages[3].json");

    assertThat(get("keep")).isEqualTo(before);
    assertThat(stub.list(ListRequest.getDefaultInstance()).getConversationsList()).isEqualTo(listBefore);
    assertThat(store.stats().conversations()).isEqualTo(2);
  }

  @Test
  void anAppendCarryingCountersIsOneTurn() {
    stub.save(save("turn", m("u0", "{}")).putCacheInfo("cache_read", 7).putCacheInfo("input_tokens", 1).build());
    long before = get("turn").getVersion();
    AppendResponse r = stub.append(append("turn", m("u1", "{\"role\":\"user\"}"), m("a1", "{\"role\":\"assistant\"}"))
        .putCacheInfo("input_tokens", 1200).putCacheInfo("output_tokens", 85).build());
    assertThat(r.getAppendedCount()).isEqualTo(2);
    Conversation c = get("turn");
    assertThat(c.getVersion()).isEqualTo(r.getVersion()).isGreaterThan(before);
    assertThat(c.getCacheInfoMap())
        .isEqualTo(Map.of("cache_read", 7L, "input_tokens", 1200L, "output_tokens", 85L));
    // The retry changes nothing, counters included.
    AppendResponse retry = stub.append(append("turn", m("u1", "{\"role\":\"user\"}"),
        m("a1", "{\"role\":\"assistant\"}")).putCacheInfo("input_tokens", 1200).build());
    assertThat(retry.getAppendedCount()).isZero();
    assertThat(retry.getVersion()).isEqualTo(r.getVersion());
    assertThat(get("turn")).isEqualTo(c);
  }

  @Test
  void anAppendsCountersAreCheckedAsUpdateCachesAndABadOneStoresNothing() {
    stub.save(save("keep", m("k1", "{}")).putCacheInfo("c", 1).build());
    Conversation before = get("keep");
    assertInvalid(() -> stub.append(append("keep", m("k2", "{}")).putCacheInfo("", 1).build()), "cache_info");
    assertInvalid(() -> stub.append(append("keep", m("k2", "{}")).putCacheInfo("k".repeat(257), 1).build()),
        "cache_info[" + "k".repeat(64) + "...(257 characters)]");
    assertInvalid(() -> stub.append(append("keep", m("k2", "{}")).putCacheInfo("in\u0007", 1).build()),
        "cache_info[in\\u0007]");
    AppendRequest.Builder tooMany = append("keep", m("k2", "{}"));
    for (int i = 0; i <= 16; i++) {
      tooMany.putCacheInfo("c" + i, i);
    }
    List<FieldViolation> many = assertInvalid(() -> stub.append(tooMany.build()), "cache_info");
    assertThat(many).extracting(FieldViolation::getDescription).anyMatch(d -> d.contains("at most 16"));
    // Every violation at once: the messages' and the counters'.
    List<FieldViolation> all = assertInvalid(
        () -> stub.append(append("keep", m("k2", "[]")).putCacheInfo("", 1).build()), "cache_info");
    assertThat(all).extracting(FieldViolation::getField).contains("messages[0].json", "cache_info");
    assertThat(get("keep")).isEqualTo(before);
  }

  /** {"a":{"a":...{}...}} with {@code depth} objects. */
  private static String nested(int depth) {
    return "{\"a\":".repeat(depth - 1) + "{}" + "}".repeat(depth - 1);
  }

  @Test
  void nestingUpToTheLimitIsAccepted() {
    stub.save(save("deep", m(nested(JSON_DEPTH)), m("{\"a\":[[[[[[[]]]]]]]}")).build());
    assertThat(get("deep").getMessageCount()).isEqualTo(2);
  }

  @Test
  void pageTokensThatTheServerDidNotIssueForThisQueryAreRejected() {
    for (int i = 0; i < 5; i++) {
      stub.save(save("p" + i, m("{}")).putMetadata("project", i % 2 == 0 ? "even" : "odd").build());
    }
    String token = stub.list(ListRequest.newBuilder().setPageSize(2).build()).getNextPageToken();
    assertThat(token).isNotEmpty();
    String evenToken = stub.list(ListRequest.newBuilder().setPageSize(1).putMetadataFilter("project", "even")
        .build()).getNextPageToken();
    assertThat(evenToken).isNotEmpty();

    assertInvalid(() -> stub.list(ListRequest.newBuilder().setPageToken("forged!!").build()), "page_token");
    assertInvalid(() -> stub.list(ListRequest.newBuilder().setPageToken("djE6OTk5").build()), "page_token");
    assertInvalid(() -> stub.list(ListRequest.newBuilder().setPageToken(token + "x").build()), "page_token");
    assertInvalid(() -> stub.list(ListRequest.newBuilder().setPageToken(
        java.util.Base64.getUrlEncoder().withoutPadding().encodeToString("v1:-5:0000000000000000".getBytes()))
        .build()), "page_token");
    // Reused with another filter, or without the filter it was issued for.
    assertInvalid(() -> stub.list(ListRequest.newBuilder().setPageToken(token).putMetadataFilter("project", "odd")
        .build()), "page_token");
    assertInvalid(() -> stub.list(ListRequest.newBuilder().setPageToken(evenToken).build()), "page_token");
    assertInvalid(() -> stub.list(ListRequest.newBuilder().setPageToken(evenToken)
        .putMetadataFilter("project", "odd").build()), "page_token");
    // Or by another tenant.
    assertInvalid(() -> asTenant("intruder").list(ListRequest.newBuilder().setPageToken(token).build()),
        "page_token");

    // The token does work with its own query.
    assertThat(stub.list(ListRequest.newBuilder().setPageSize(2).setPageToken(token).build())
        .getConversationsList()).hasSize(2);
    assertThat(stub.list(ListRequest.newBuilder().setPageToken(evenToken).putMetadataFilter("project", "even")
        .build()).getConversationsList()).extracting(ConversationSummary::getThreadId).containsExactly("p2", "p0");
  }

  // ---- NOT_FOUND, ABORTED, RESOURCE_EXHAUSTED -------------------------------------------------------------

  @Test
  void unknownThreadsAreNotFound() {
    ErrorInfo get = assertError(() -> get("nobody"), Code.NOT_FOUND, "CONVERSATION_NOT_FOUND");
    assertThat(get.getMetadataMap()).containsEntry("thread_id", "nobody");
    assertError(() -> stub.updateCache(UpdateCacheRequest.newBuilder().setThreadId("nobody").putCacheInfo("a", 1)
        .build()), Code.NOT_FOUND, "CONVERSATION_NOT_FOUND");
    assertThat(stub.clear(ClearRequest.newBuilder().setThreadId("nobody").build()).getDeleted()).isFalse();
    assertThat(store.stats().conversations()).isZero();
  }

  @Test
  void aStaleExpectedVersionIsAbortedWithTheCurrentVersion() {
    long v = stub.save(save("cas", m("k", "{\"k\":1}")).build()).getVersion();
    Conversation before = get("cas");
    long stale = v - 1;

    List<Runnable> calls = List.of(
        () -> stub.save(save("cas", m("{}")).setExpectedVersion(stale).build()),
        () -> stub.append(append("cas", m("{}")).setExpectedVersion(stale).build()),
        () -> stub.updateCache(UpdateCacheRequest.newBuilder().setThreadId("cas").setExpectedVersion(stale).build()),
        () -> stub.clear(ClearRequest.newBuilder().setThreadId("cas").setExpectedVersion(stale).build()),
        () -> stub.save(save("cas", m("{}")).setExpectedVersion(0).build()));
    for (Runnable call : calls) {
      ErrorInfo info = assertError(call, Code.ABORTED, "VERSION_MISMATCH");
      assertThat(info.getMetadataMap()).containsEntry("current_version", Long.toString(v));
      assertThat(info.getMetadataMap()).containsEntry("thread_id", "cas");
    }
    ErrorInfo missing = assertError(() -> stub.append(append("not-yet", m("{}")).setExpectedVersion(7).build()),
        Code.ABORTED, "VERSION_MISMATCH");
    assertThat(missing.getMetadataMap()).containsEntry("current_version", "0");
    assertThat(missing.getMetadataMap()).containsEntry("expected_version", "7");

    assertThat(get("cas")).isEqualTo(before);
    assertError(() -> get("not-yet"), Code.NOT_FOUND, "CONVERSATION_NOT_FOUND");
  }

  @Test
  void aHistoryOverTheLimitIsResourceExhausted() {
    String big = "{\"b\":\"" + "x".repeat(900) + "\"}"; // 908 bytes; the limit is 2000
    stub.save(save("full", m("1", big), m("2", big)).build());
    Conversation before = get("full");

    ErrorInfo onSave = assertError(() -> stub.save(save("full", m("1", big), m("2", big), m("3", big)).build()),
        Code.RESOURCE_EXHAUSTED, "HISTORY_TOO_LARGE");
    assertThat(onSave.getMetadataMap()).containsEntry("limit_bytes", "2000").containsEntry("resulting_bytes", "2724");
    ErrorInfo onAppend = assertError(() -> stub.append(append("full", m("3", big)).build()),
        Code.RESOURCE_EXHAUSTED, "HISTORY_TOO_LARGE");
    assertThat(onAppend.getMetadataMap()).containsEntry("thread_id", "full");
    assertError(() -> stub.save(save("new", m(big), m(big), m(big)).build()),
        Code.RESOURCE_EXHAUSTED, "HISTORY_TOO_LARGE");

    assertThat(get("full")).isEqualTo(before);
    assertError(() -> get("new"), Code.NOT_FOUND, "CONVERSATION_NOT_FOUND");
  }

  // ---- List -----------------------------------------------------------------------------------------------

  @Test
  void listPagesThroughEverythingExactlyOnce() {
    for (int i = 0; i < 120; i++) {
      stub.append(append("c" + i, m("{}")).build());
    }
    List<Integer> sizes = new ArrayList<>();
    List<String> seen = new ArrayList<>();
    String token = "";
    do {
      ListResponse page = stub.list(ListRequest.newBuilder().setPageSize(50).setPageToken(token).build());
      sizes.add(page.getConversationsCount());
      page.getConversationsList().forEach(s -> seen.add(s.getThreadId()));
      token = page.getNextPageToken();
    } while (!token.isEmpty() && sizes.size() < 10);

    assertThat(sizes).containsExactly(50, 50, 20);
    assertThat(seen).doesNotHaveDuplicates().hasSize(120);
    assertThat(seen.get(0)).isEqualTo("c119");
    assertThat(seen.get(119)).isEqualTo("c0");
    Set<String> expected = new HashSet<>();
    for (int i = 0; i < 120; i++) {
      expected.add("c" + i);
    }
    assertThat(new HashSet<>(seen)).isEqualTo(expected);

    // Exactly one page's worth: no token pointing at an empty page.
    ListResponse exact = stub.list(ListRequest.newBuilder().setPageSize(120).build());
    assertThat(exact.getConversationsCount()).isEqualTo(120);
    assertThat(exact.getNextPageToken()).isEmpty();
  }

  @Test
  void pageSizeZeroMeansFiftyAndBigSizesAreClampedToAThousand() {
    for (int i = 0; i < 1_005; i++) {
      stub.append(append("c" + i, m("{}")).build());
    }
    ListResponse byDefault = stub.list(ListRequest.getDefaultInstance());
    assertThat(byDefault.getConversationsCount()).isEqualTo(50);
    assertThat(byDefault.getNextPageToken()).isNotEmpty();

    ListResponse clamped = stub.list(ListRequest.newBuilder().setPageSize(5_000).build());
    assertThat(clamped.getConversationsCount()).isEqualTo(1_000);
    assertThat(clamped.getNextPageToken()).isNotEmpty();
    ListResponse rest = stub.list(ListRequest.newBuilder().setPageSize(5_000)
        .setPageToken(clamped.getNextPageToken()).build());
    assertThat(rest.getConversationsCount()).isEqualTo(5);
    assertThat(rest.getNextPageToken()).isEmpty();
  }

  // ---- tenants --------------------------------------------------------------------------------------------

  @Test
  void theTenantOfTheCallScopesEveryRpc() {
    ConversationServiceBlockingStub alice = asTenant("alice");
    ConversationServiceBlockingStub bob = asTenant("bob");
    alice.save(save("same", m("a", "{\"who\":\"alice\"}")).build());
    SaveResponse bobs = bob.save(save("same", m("a", "{\"who\":\"bob\"}")).build());
    assertThat(bobs.getCreated()).isTrue();

    Consumer<ConversationServiceBlockingStub> noSuchThread = s -> assertError(
        () -> s.get(GetRequest.newBuilder().setThreadId("same").build()), Code.NOT_FOUND, "CONVERSATION_NOT_FOUND");
    noSuchThread.accept(stub);

    assertThat(alice.get(GetRequest.newBuilder().setThreadId("same").build()).getConversation()
        .getMessages(0).getJson()).isEqualTo("{\"who\":\"alice\"}");
    assertThat(bob.append(append("same", m("a", "{}")).build()).getAppendedCount()).isZero();
    assertThat(alice.list(ListRequest.getDefaultInstance()).getConversationsList()).hasSize(1);
    assertThat(stub.list(ListRequest.getDefaultInstance()).getConversationsList()).isEmpty();

    assertThat(alice.clear(ClearRequest.newBuilder().setThreadId("same").build()).getDeleted()).isTrue();
    noSuchThread.accept(alice);
    assertThat(bob.get(GetRequest.newBuilder().setThreadId("same").build()).getConversation().getMessages(0)
        .getJson()).isEqualTo("{\"who\":\"bob\"}");
  }
  // ---- update metadata and fork ---------------------------------------------------------------------------

  @Test
  void updateMetadataSetsAndRemovesKeysOverTheWire() {
    long v = stub.save(save("um", m("{\"a\":1}")).putMetadata("title", "t").putMetadata("drop", "x")
        .putCacheInfo("in", 3).build()).getVersion();
    long after = stub.updateMetadata(UpdateMetadataRequest.newBuilder().setThreadId("um").putSet("title", "u")
        .addRemove("drop").addCacheRemove("in").putCacheSet("out", 4).setExpectedVersion(v).build()).getVersion();
    Conversation c = get("um");
    assertThat(after).isGreaterThan(v);
    assertThat(c.getMetadataMap()).containsExactlyEntriesOf(Map.of("title", "u"));
    assertThat(c.getCacheInfoMap()).containsExactlyEntriesOf(Map.of("out", 4L));
    assertThat(c.getMessagesCount()).isEqualTo(1);
  }

  @Test
  void updateMetadataRefusesAKeyBothSetAndRemovedAndAnUnknownThread() {
    stub.save(save("um2").build());
    com.google.rpc.Status both = failure(() -> stub.updateMetadata(UpdateMetadataRequest.newBuilder()
        .setThreadId("um2").putSet("k", "v").addRemove("ok").addRemove("k").addRemove("").build()));
    assertThat(both.getCode()).isEqualTo(Code.INVALID_ARGUMENT_VALUE);
    assertThat(violations(both)).extracting(FieldViolation::getField).containsExactly("remove[1]", "remove[2]");
    com.google.rpc.Status missing = failure(() -> stub.updateMetadata(UpdateMetadataRequest.newBuilder()
        .setThreadId("nobody").addRemove("k").build()));
    assertThat(missing.getCode()).isEqualTo(Code.NOT_FOUND_VALUE);
    assertThat(errorInfo(missing).getReason()).isEqualTo("CONVERSATION_NOT_FOUND");
  }

  @Test
  void forkErrorsCarryTheirCodesAndDetails() {
    stub.save(save("fs", m("{\"a\":1}"), m("{\"a\":2}")).build());
    stub.save(save("taken").build());
    ForkResponse ok = stub.fork(ForkRequest.newBuilder().setThreadId("fs").setNewThreadId("fd").setEndPosition(1)
        .build());
    assertThat(ok.getMessageCount()).isEqualTo(1);
    assertThat(get("fd").getMetadataMap()).containsEntry("forked_from", "fs");

    com.google.rpc.Status range = failure(() -> stub.fork(ForkRequest.newBuilder().setThreadId("fs")
        .setNewThreadId("fx").setEndPosition(3).build()));
    assertThat(range.getCode()).isEqualTo(Code.OUT_OF_RANGE_VALUE);
    assertThat(errorInfo(range).getReason()).isEqualTo("POSITION_OUT_OF_RANGE");
    assertThat(errorInfo(range).getMetadataMap()).containsEntry("message_count", "2");
    assertThat(violations(range)).extracting(FieldViolation::getField).containsExactly("end_position");

    com.google.rpc.Status exists = failure(() -> stub.fork(ForkRequest.newBuilder().setThreadId("fs")
        .setNewThreadId("taken").build()));
    assertThat(exists.getCode()).isEqualTo(Code.ALREADY_EXISTS_VALUE);
    assertThat(errorInfo(exists).getReason()).isEqualTo("CONVERSATION_EXISTS");

    com.google.rpc.Status missing = failure(() -> stub.fork(ForkRequest.newBuilder().setThreadId("none")
        .setNewThreadId("fy").build()));
    assertThat(missing.getCode()).isEqualTo(Code.NOT_FOUND_VALUE);

    com.google.rpc.Status invalid = failure(() -> stub.fork(ForkRequest.newBuilder().setThreadId("fs")
        .setEndPosition(-1).build()));
    assertThat(invalid.getCode()).isEqualTo(Code.INVALID_ARGUMENT_VALUE);
    assertThat(violations(invalid)).extracting(FieldViolation::getField)
        .containsExactly("new_thread_id", "end_position");
  }
  @Test
  void searchPagesWithTokensBoundToTheQuery() {
    for (int i = 0; i < 5; i++) {
      stub.append(append("sr-" + i, m("{\"content\":\"deploy the parser_v2 build\"}")).build());
    }
    SearchResponse first = stub.search(SearchRequest.newBuilder().setQuery("parser_v2").setPageSize(3).build());
    assertThat(first.getResultsCount()).isEqualTo(3);
    assertThat(first.getResults(0).getSnippet()).contains("parser_v2");
    assertThat(first.getNextPageToken()).isNotEmpty();
    SearchResponse second = stub.search(SearchRequest.newBuilder().setQuery("parser_v2").setPageSize(3)
        .setPageToken(first.getNextPageToken()).build());
    assertThat(second.getResultsCount()).isEqualTo(2);
    assertThat(second.getNextPageToken()).isEmpty();
    Set<String> threads = new HashSet<>();
    first.getResultsList().forEach(r -> threads.add(r.getThreadId()));
    second.getResultsList().forEach(r -> threads.add(r.getThreadId()));
    assertThat(threads).hasSize(5);

    com.google.rpc.Status otherQuery = failure(() -> stub.search(SearchRequest.newBuilder().setQuery("deploy")
        .setPageToken(first.getNextPageToken()).build()));
    assertThat(violations(otherQuery)).extracting(FieldViolation::getField).containsExactly("page_token");
    com.google.rpc.Status listToken = failure(() -> stub.search(SearchRequest.newBuilder().setQuery("deploy")
        .setPageToken(stub.list(ListRequest.newBuilder().setPageSize(1).build()).getNextPageToken()).build()));
    assertThat(violations(listToken)).extracting(FieldViolation::getField).containsExactly("page_token");
    assertThat(asTenant("someone-else").search(SearchRequest.newBuilder().setQuery("parser_v2").build())
        .getResultsCount()).isZero();
  }

  @Test
  void searchRefusesQueriesWithoutWords() {
    for (String query : List.of("", "   ", "!!! ...", "x".repeat(1025))) {
      com.google.rpc.Status s = failure(() -> stub.search(SearchRequest.newBuilder().setQuery(query).build()));
      assertThat(s.getCode()).isEqualTo(Code.INVALID_ARGUMENT_VALUE);
      assertThat(violations(s)).extracting(FieldViolation::getField).containsExactly("query");
    }
    com.google.rpc.Status negative = failure(() -> stub.search(SearchRequest.newBuilder().setQuery("a")
        .setPageSize(-1).build()));
    assertThat(violations(negative)).extracting(FieldViolation::getField).containsExactly("page_size");
  }
}
