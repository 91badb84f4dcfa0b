package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest.FieldViolation;
import com.google.rpc.BadRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.UpdateCacheRequest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an error says back about the request is bounded, whatever the request held: an over-long map key is
 * shortened in the field path (with its length said), and a request with thousands of faults lists a few and
 * counts the rest. Before, the key was copied whole into grpc-message and BadRequest, and from ~5,000 characters
 * clients could not read the trailers and reported RESOURCE_EXHAUSTED instead of INVALID_ARGUMENT.
 */
class EchoedInputIT {
  /** The most an error's texts may carry back: far below grpc-java's 8 KiB default for received trailers. */
  private static final int MAX_ECHO = 2048;

  @TempDir
  static Path dir;

  private static ServerProcess server;
  private static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    server = Rpc.startSqlite(dir.resolve("echo.db"), "--database-durability", "normal");
    channel = Rpc.channel(server.target());
  }

  @AfterAll
  static void stop() throws InterruptedException {
    Rpc.close(channel);
    server.close();
  }

  private static ConversationServiceBlockingStub stub() {
    return Rpc.stub(channel);
  }

  private static String longKey(int length) {
    return "k".repeat(length);
  }

  /** The call's status, which must be INVALID_ARGUMENT with every text bounded; returns its BadRequest. */
  private static BadRequest invalid(Runnable call) {
    Throwable t = catchThrowable(call::run);
    assertThat(t).as("the call must fail").isNotNull();
    assertThat(Rpc.code(t)).as("status of %s", t).isEqualTo(Status.Code.INVALID_ARGUMENT);
    com.google.rpc.Status status = StatusProto.fromThrowable(t);
    assertThat(status).isNotNull();
    assertThat(status.getMessage().length()).isLessThanOrEqualTo(MAX_ECHO);
    BadRequest badRequest = status.getDetailsList().stream().filter(a -> a.is(BadRequest.class)).findFirst()
        .map(a -> {
          try {
            return a.unpack(BadRequest.class);
          } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
          }
        }).orElseThrow();
    assertThat(badRequest.getSerializedSize()).isLessThanOrEqualTo(4 * MAX_ECHO);
    return badRequest;
  }

  private static void assertShortenedWithLength(BadRequest badRequest, String field, int length) {
    assertThat(badRequest.getFieldViolationsList()).hasSize(1);
    FieldViolation v = badRequest.getFieldViolations(0);
    assertThat(v.getField()).startsWith(field + "[kkk").hasSizeLessThan(200);
    assertThat(v.getField() + " " + v.getDescription()).contains(Integer.toString(length));
  }

  @Test
  void anOverLongMetadataKeyIsShortenedInTheFieldPath() {
    BadRequest b = invalid(() -> stub().save(SaveRequest.newBuilder().setThreadId("t")
        .putMetadata(longKey(6_000), "v").build()));
    assertShortenedWithLength(b, "metadata", 6_000);
  }

  @Test
  void anOverLongCacheKeyIsShortenedInTheFieldPath() {
    BadRequest b = invalid(() -> stub().updateCache(UpdateCacheRequest.newBuilder().setThreadId("t")
        .putCacheInfo(longKey(100_000), 1L).build()));
    assertShortenedWithLength(b, "cache_info", 100_000);
  }

  @Test
  void anOverLongFilterKeyIsShortenedInTheFieldPath() {
    BadRequest b = invalid(() -> stub().list(ListRequest.newBuilder()
        .putMetadataFilter(longKey(100_000), "v").build()));
    assertShortenedWithLength(b, "metadata_filter", 100_000);
  }

  @Test
  void thousandsOfFaultsAreListedInPartAndCounted() {
    SaveRequest.Builder save = SaveRequest.newBuilder().setThreadId("t");
    for (int i = 0; i < 3_000; i++) {
      save.addMessages(Message.newBuilder().setId("i" + i + "\u0001").setJson("[" + i + "]"));
    }
    BadRequest b = invalid(() -> stub().save(save.build()));
    List<FieldViolation> listed = b.getFieldViolationsList();
    assertThat(listed.size()).isBetween(2, 25);
    FieldViolation last = listed.get(listed.size() - 1);
    // 6,000 faults: an id with a control character and a JSON array per message.
    assertThat(last.getDescription()).contains(Integer.toString(6_000 - (listed.size() - 1)));
  }
}
