package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.vmpilot.conversation.server.store.memory.MemoryConversationStore;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ChangeKind;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.UpdateMetadataRequest;
import io.vmpilot.conversation.v1.WatchRequest;
import io.vmpilot.conversation.v1.WatchResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Watch over the in-process transport and the memory store: what it streams, in what order, and its errors. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WatchServiceTest {
  private final MemoryConversationStore store = new MemoryConversationStore(1 << 20);
  private InProcessConversationService service;

  private InProcessConversationService start(WatchSettings watch) throws Exception {
    service = new InProcessConversationService(store, RequestLimits.DEFAULTS, watch);
    return service;
  }

  @AfterEach
  void close() throws Exception {
    if (service != null) {
      service.close();
    }
    store.close();
  }

  private long append(String thread, String json) {
    return service.stub.append(AppendRequest.newBuilder().setThreadId(thread)
        .addMessages(Message.newBuilder().setJson(json)).build()).getVersion();
  }

  private static List<WatchResponse> take(Iterator<WatchResponse> events, int n) {
    List<WatchResponse> got = new ArrayList<>();
    while (got.size() < n) {
      got.add(events.next());
    }
    return got;
  }

  @Test
  void streamsTheLoggedChangesThenTheLiveOnesInVersionOrder() throws Exception {
    start(WatchSettings.DEFAULTS);
    long v1 = append("a", "{\"n\":1}");
    long v2 = append("b", "{\"n\":2}");
    Iterator<WatchResponse> all = service.stub.watch(WatchRequest.getDefaultInstance());
    Iterator<WatchResponse> onlyA = service.stub.watch(WatchRequest.newBuilder().setThreadId("a").build());
    List<WatchResponse> first = take(all, 2);
    assertThat(first).extracting(WatchResponse::getVersion).containsExactly(v1, v2);
    assertThat(first.get(0).getKind()).isEqualTo(ChangeKind.CHANGE_KIND_APPENDED);
    assertThat(first.get(0).getMessages(0).getJson()).isEqualTo("{\"n\":1}");
    assertThat(first.get(1).getThreadId()).isEqualTo("b");

    long v3 = append("a", "{\"n\":3}");
    service.stub.clear(ClearRequest.newBuilder().setThreadId("a").build());
    List<WatchResponse> live = take(all, 2);
    assertThat(live.get(0).getVersion()).isEqualTo(v3);
    assertThat(live.get(0).getFirstPosition()).isEqualTo(1);
    assertThat(live.get(1).getKind()).isEqualTo(ChangeKind.CHANGE_KIND_CLEARED);
    assertThat(live.get(1).getVersion()).isGreaterThan(v3);
    assertThat(take(onlyA, 3)).extracting(WatchResponse::getThreadId).containsOnly("a");
  }

  @Test
  void resumingFromTheLastVersionSeenRepeatsNothing() throws Exception {
    start(WatchSettings.DEFAULTS);
    long v1 = append("a", "{}");
    long v2 = append("a", "{}");
    Iterator<WatchResponse> resumed = service.stub.watch(WatchRequest.newBuilder().setStartVersion(v1).build());
    assertThat(resumed.next().getVersion()).isEqualTo(v2);
    long v3 = append("a", "{}");
    assertThat(resumed.next().getVersion()).isEqualTo(v3);
  }

  @Test
  void aNegativeStartVersionOrAMalformedThreadIdIsInvalid() throws Exception {
    start(WatchSettings.DEFAULTS);
    assertThatThrownBy(() -> service.stub.watch(WatchRequest.newBuilder().setStartVersion(-1).build()).hasNext())
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    assertThatThrownBy(() -> service.stub.watch(WatchRequest.newBuilder().setThreadId("a\u0001").build()).hasNext())
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  @Test
  void resumingFromBeforeThePrunedPartIsOutOfRange() throws Exception {
    start(WatchSettings.DEFAULTS);
    long v1 = append("a", "{}");
    long v2 = append("a", "{}");
    store.changeFeed().prune(Instant.now().plusSeconds(60), 1);
    assertThatThrownBy(() -> service.stub.watch(WatchRequest.newBuilder().setStartVersion(0).build()).hasNext())
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.OUT_OF_RANGE);
          ErrorInfo info = errorInfo(e);
          assertThat(info.getReason()).isEqualTo("CHANGE_LOG_PRUNED");
          assertThat(info.getMetadataMap()).containsEntry("pruned_through_version", Long.toString(v1));
        });
    assertThat(service.stub.watch(WatchRequest.newBuilder().setStartVersion(v1).build()).next().getVersion())
        .isEqualTo(v2);
  }

  @Test
  void aWatcherThatStopsReadingIsCutOffWhileWritesGoOn() throws Exception {
    start(new WatchSettings(Duration.ofHours(1), 5));
    append("a", "{}");
    Iterator<WatchResponse> slow = service.stub.watch(WatchRequest.getDefaultInstance());
    assertThat(slow.hasNext()).isTrue();
    // The watcher reads no further; every write still succeeds at once.
    List<Long> versions = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      versions.add(append("a", "{\"i\":" + i + "}"));
    }
    assertThat(versions).hasSize(50).isSorted();
    StatusRuntimeException cutOff = null;
    int received = 0;
    try {
      while (slow.hasNext()) {
        slow.next();
        received++;
      }
    } catch (StatusRuntimeException e) {
      cutOff = e;
    }
    assertThat(cutOff).isNotNull();
    assertThat(cutOff.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(errorInfo(cutOff).getReason()).isEqualTo("WATCHER_TOO_SLOW");
    assertThat(received).isLessThan(51);
    assertThat(service.service.watchStats().cutOff(WatchStats.CutOff.WATCHER_TOO_SLOW)).isEqualTo(1);
    assertThat(service.service.watchStats().eventsSent()).isGreaterThanOrEqualTo(received);
    assertThat(service.service.watchStats().open()).isZero();
  }

  @Test
  void aMetadataFilterSendsTheChangesOfMatchingConversationsAndTheOneByWhichTheyStopMatching() throws Exception {
    start(WatchSettings.DEFAULTS);
    service.stub.save(SaveRequest.newBuilder().setThreadId("a").putMetadata("project", "x")
        .addMessages(Message.newBuilder().setJson("{}")).build());
    service.stub.save(SaveRequest.newBuilder().setThreadId("b").putMetadata("project", "y").build());
    Iterator<WatchResponse> x = service.stub.watch(WatchRequest.newBuilder().putMetadataFilter("project", "x").build());
    WatchResponse created = x.next();
    assertThat(created.getThreadId()).isEqualTo("a");
    assertThat(created.getLeftFilter()).isFalse();

    long moved = service.stub.updateMetadata(UpdateMetadataRequest.newBuilder().setThreadId("a")
        .putSet("project", "y").build()).getVersion();
    WatchResponse left = x.next();
    assertThat(left.getVersion()).isEqualTo(moved);
    assertThat(left.getKind()).isEqualTo(ChangeKind.CHANGE_KIND_METADATA_UPDATED);
    assertThat(left.getLeftFilter()).isTrue();

    append("a", "{\"not\":\"sent\"}");
    append("b", "{\"not\":\"sent\"}");
    long joined = service.stub.updateMetadata(UpdateMetadataRequest.newBuilder().setThreadId("b")
        .putSet("project", "x").build()).getVersion();
    WatchResponse joins = x.next();
    assertThat(joins.getThreadId()).isEqualTo("b");
    assertThat(joins.getVersion()).isEqualTo(joined);
    assertThat(joins.getLeftFilter()).isFalse();
    service.stub.clear(ClearRequest.newBuilder().setThreadId("b").build());
    WatchResponse cleared = x.next();
    assertThat(cleared.getKind()).isEqualTo(ChangeKind.CHANGE_KIND_CLEARED);
    assertThat(cleared.getThreadId()).isEqualTo("b");
    assertThat(cleared.getLeftFilter()).isFalse();

    // Resumed from the start, the same filter gets the same events: they were matched as the metadata was then.
    List<WatchResponse> again = take(service.stub.watch(WatchRequest.newBuilder()
        .putMetadataFilter("project", "x").build()), 4);
    assertThat(again).containsExactly(created, left, joins, cleared);
    assertThat(service.service.watchStats().eventsSent()).isGreaterThanOrEqualTo(8);
  }

  @Test
  void aMalformedMetadataFilterIsInvalid() throws Exception {
    start(WatchSettings.DEFAULTS);
    assertThatThrownBy(() -> service.stub.watch(WatchRequest.newBuilder().putMetadataFilter("", "x").build())
        .hasNext())
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("metadata_filter");
        });
  }

  private static ErrorInfo errorInfo(StatusRuntimeException e) {
    return StatusProto.fromThrowable(e).getDetailsList().stream()
        .filter(d -> d.is(ErrorInfo.class))
        .map(d -> {
          try {
            return d.unpack(ErrorInfo.class);
          } catch (Exception ex) {
            throw new AssertionError(ex);
          }
        })
        .findFirst().orElseThrow();
  }
}
