package io.vmpilot.conversation.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.vmpilot.conversation.server.store.sqlite.Durability;
import io.vmpilot.conversation.server.store.sqlite.SqliteConversationStore;
import io.vmpilot.conversation.server.store.sqlite.SqliteSettings;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A message whose stored bytes are not UTF-8 (only a database file changed outside the server holds one) is
 * reported as DATA_LOSS naming it, not sent altered; the rest of the conversation stays readable.
 */
class CorruptStoredMessageTest {
  @TempDir
  Path dir;

  private SqliteConversationStore store;
  private InProcessConversationService service;
  private ConversationServiceBlockingStub stub;

  @BeforeEach
  void start() throws Exception {
    store = SqliteConversationStore.open(
        new SqliteSettings(dir.resolve("c.db"), Durability.NORMAL, 5000, 2, 16, 1 << 20));
    service = new InProcessConversationService(store, new RequestLimits(100, 1_000, 8, 16, 1_024));
    stub = service.stub;
  }

  @AfterEach
  void stop() throws InterruptedException {
    service.close();
    store.close();
  }

  @Test
  void getAnswersDataLossNamingTheMessageAndTheRestStaysReadable() throws Exception {
    stub.append(AppendRequest.newBuilder().setThreadId("t")
        .addMessages(Message.newBuilder().setJson("{\"a\":\"é\"}"))
        .addMessages(Message.newBuilder().setJson("{\"b\":2}"))
        .addMessages(Message.newBuilder().setJson("{\"c\":\"日本\"}"))
        .build());
    // As another program might: message 1 becomes {"a":"<0xFF>"}, a byte that is never UTF-8.
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("c.db"));
        Statement st = c.createStatement()) {
      assertThat(st.executeUpdate("UPDATE messages SET json = CAST(X'7B2261223A22FF227D' AS TEXT)"
          + " WHERE position = 1")).isEqualTo(1);
    }

    StatusRuntimeException e = catchThrowableOfType(
        () -> stub.get(GetRequest.newBuilder().setThreadId("t").build()), StatusRuntimeException.class);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DATA_LOSS);
    assertThat(e.getStatus().getDescription()).contains("stored message 1 of thread t is not valid UTF-8");
    ErrorInfo info = StatusProto.fromThrowable(e).getDetails(0).unpack(ErrorInfo.class);
    assertThat(info.getReason()).isEqualTo("STORED_MESSAGE_CORRUPT");
    assertThat(info.getMetadataMap()).containsEntry("thread_id", "t").containsEntry("position", "1");

    Conversation rest = stub.get(GetRequest.newBuilder().setThreadId("t").setStartPosition(2).build())
        .getConversation();
    assertThat(rest.getMessagesList()).extracting(Message::getJson).containsExactly("{\"c\":\"日本\"}");
    Conversation newest = stub.get(GetRequest.newBuilder().setThreadId("t").setMaxMessages(1).build())
        .getConversation();
    assertThat(newest.getMessages(0).getPosition()).isEqualTo(2);
  }
}
