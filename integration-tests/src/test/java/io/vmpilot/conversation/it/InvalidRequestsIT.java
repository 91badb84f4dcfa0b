package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.BadRequest.FieldViolation;
import io.grpc.Status;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationStoreException;
import io.vmpilot.conversation.client.VersionConflictException;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.SaveResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The documented answer to each kind of bad request, over a real socket, and the stored data left intact.
 * The server runs with a 100,000-byte history limit and a 1 MiB request limit so that limits are cheap to hit.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InvalidRequestsIT {
  private static final String REFERENCE = "reference";

  private ServerProcess server;
  private ConversationClient client;
  private Conversation reference;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    server = ServerProcess.startSqlite(dir.resolve("bad.db"), "--max-history-bytes", "100000",
        "--max-inbound-message-bytes", "1048576");
    client = ConversationClient.builder(server.target()).maxAttempts(1).build();
    client.save(SaveRequest.newBuilder().setThreadId(REFERENCE)
        .addAllMessages(TrickyMessages.ALL.stream().map(ConversationClient::message).toList())
        .putMetadata("project_root", "/src").putCacheInfo("input_tokens", 7).build());
    reference = client.get(REFERENCE).orElseThrow();
  }

  @AfterAll
  void stop() throws Exception {
    assertThat(client.get(REFERENCE)).as("reference conversation after every bad request").contains(reference);
    client.close();
    server.close();
  }

  private static ConversationStoreException refused(Runnable call) {
    return catchThrowableOfType(ConversationStoreException.class, call::run);
  }

  private static void assertInvalid(ConversationStoreException e, String field, String descriptionPart) {
    assertThat(e).as("the call must be refused").isNotNull();
    assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.reason()).isEqualTo("INVALID_ARGUMENT");
    assertThat(e.fieldViolations()).extracting(FieldViolation::getField).contains(field);
    assertThat(e.fieldViolations()).extracting(FieldViolation::getDescription)
        .anySatisfy(d -> assertThat(d).contains(descriptionPart));
  }

  @Test
  void emptyThreadId() {
    assertInvalid(refused(() -> client.save("", List.of("{}"))), "thread_id", "required");
  }

  @Test
  void overlongThreadIdAndControlCharacters() {
    assertInvalid(refused(() -> client.save("x".repeat(257), List.of("{}"))), "thread_id", "at most 256");
    assertInvalid(refused(() -> client.get(REFERENCE + "\u0000")), "thread_id", "control characters");
    assertThat(client.save("y".repeat(256), List.of("{}")).getCreated()).as("256 characters is allowed").isTrue();
  }

  @Test
  void malformedJsonAndNonObjects() {
    assertInvalid(refused(() -> client.save(REFERENCE, List.of("{\"role\": \"user\""))), "messages[0].json",
        "not well-formed JSON");
    assertInvalid(refused(() -> client.append(REFERENCE, List.of("{}", "[{\"role\":\"user\"}]"))),
        "messages[1].json", "must be a JSON object, not an array");
    assertInvalid(refused(() -> client.append(REFERENCE, List.of("\"text\""))), "messages[0].json",
        "must be a JSON object, not a string");
    assertInvalid(refused(() -> client.append(REFERENCE, List.of("{} {}"))), "messages[0].json", "");
  }

  @Test
  void aHistoryOverTheSizeLimit() {
    String big = "{\"content\":\"" + "a".repeat(60_000) + "\"}";
    ConversationStoreException e = refused(() -> client.save(REFERENCE, List.of(big, big)));
    assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(e.reason()).isEqualTo("HISTORY_TOO_LARGE");
    assertThat(e.metadata()).containsEntry("limit_bytes", "100000");

    ConversationStoreException appended = refused(() -> client.append(REFERENCE, List.of(big, big)));
    assertThat(appended.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
  }

  @Test
  void aRequestOverTheTransportLimit() {
    String huge = "{\"content\":\"" + "b".repeat(1_200_000) + "\"}";
    ConversationStoreException e = refused(() -> client.append("huge", List.of(huge)));
    assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(client.get("huge")).isEmpty();
  }

  @Test
  void aStaleExpectedVersion() {
    SaveResponse created = client.save("versioned", List.of("{\"n\":1}"));
    client.append("versioned", List.of("{\"n\":2}"));
    ConversationStoreException e = refused(() -> client.append(AppendRequest.newBuilder().setThreadId("versioned")
        .addMessages(ConversationClient.message("{\"n\":3}")).setExpectedVersion(created.getVersion()).build()));
    assertThat(e).isInstanceOf(VersionConflictException.class);
    assertThat(e.code()).isEqualTo(Status.Code.ABORTED);
    assertThat(((VersionConflictException) e).currentVersion()).isGreaterThan(created.getVersion());
    assertThat(client.get("versioned").orElseThrow().getMessageCount()).isEqualTo(2);
  }
}
