package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.BadRequest.FieldViolation;
import io.grpc.Status;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationStoreException;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.SaveRequest;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Every configurable request limit, set small, refused with its documented code and details. */
class RequestLimitsIT {

  private static Consumer<ConversationStoreException> invalid(String field, String description) {
    return e -> {
      assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.reason()).isEqualTo("INVALID_ARGUMENT");
      assertThat(e.fieldViolations()).extracting(FieldViolation::getField).contains(field);
      assertThat(e.fieldViolations()).filteredOn(v -> v.getField().equals(field))
          .extracting(FieldViolation::getDescription).anySatisfy(d -> assertThat(d).contains(description));
    };
  }

  @Test
  void eachLimitIsRefusedWithItsCodeAndDetails() throws Exception {
    try (ServerProcess server = ServerProcess.start(List.of("--database-enabled", "false",
            "--max-messages-per-request", "3",
            "--max-message-bytes", "100",
            "--max-json-depth", "4",
            "--max-map-entries", "2",
            "--max-metadata-value-bytes", "10",
            "--max-history-bytes", "250",
            "--max-inbound-message-bytes", "4096"));
        ConversationClient client = ConversationClient.builder(server.target()).maxAttempts(1).build()) {
      SaveRequest.Builder base = SaveRequest.newBuilder().setThreadId("limits");
      client.save(base.clone().addMessages(ConversationClient.message("{\"ok\":[[[1]]]}")).build());
      String reference = client.get("limits").orElseThrow().toString();

      // Messages per request.
      assertThatThrownBy(() -> client.append("limits", List.of("{}", "{}", "{}", "{}")))
          .isInstanceOfSatisfying(ConversationStoreException.class, invalid("messages", "at most 3"));
      // Message size.
      String big = "{\"s\":\"" + "x".repeat(120) + "\"}";
      assertThatThrownBy(() -> client.append("limits", List.of(big)))
          .isInstanceOfSatisfying(ConversationStoreException.class, invalid("messages[0].json", "at most 100"));
      // JSON nesting depth: 5 levels.
      assertThatThrownBy(() -> client.append("limits", List.of("{\"a\":[[[[1]]]]}")))
          .isInstanceOfSatisfying(ConversationStoreException.class, invalid("messages[0].json", "4"));
      // Metadata: number of keys, key length, value size; cache_info keys and List filters alike.
      assertThatThrownBy(() -> client.save(base.clone().putMetadata("a", "1").putMetadata("b", "2")
          .putMetadata("c", "3").build()))
          .isInstanceOfSatisfying(ConversationStoreException.class, invalid("metadata", "at most 2"));
      assertThatThrownBy(() -> client.save(base.clone().putMetadata("k".repeat(257), "v").build()))
          .isInstanceOfSatisfying(ConversationStoreException.class,
              invalid("metadata[" + "k".repeat(64) + "...(257 characters)]", "at most 256"));
      assertThatThrownBy(() -> client.save(base.clone().putMetadata("title", "t".repeat(11)).build()))
          .isInstanceOfSatisfying(ConversationStoreException.class, invalid("metadata[title]", "at most 10"));
      assertThatThrownBy(() -> client.save(base.clone().putCacheInfo("a", 1).putCacheInfo("b", 2)
          .putCacheInfo("c", 3).build()))
          .isInstanceOfSatisfying(ConversationStoreException.class, invalid("cache_info", "at most 2"));
      assertThatThrownBy(() -> client.listPage(ListRequest.newBuilder().putMetadataFilter("a", "1")
          .putMetadataFilter("b", "2").putMetadataFilter("c", "3").build()))
          .isInstanceOfSatisfying(ConversationStoreException.class, invalid("metadata_filter", "at most 2"));
      // History size: the store's limit, with the sizes in the details.
      String eighty = "{\"s\":\"" + "h".repeat(72) + "\"}";
      assertThatThrownBy(() -> client.append(AppendRequest.newBuilder().setThreadId("limits")
          .addMessages(ConversationClient.message(eighty)).addMessages(ConversationClient.message(eighty))
          .addMessages(ConversationClient.message(eighty)).build()))
          .isInstanceOfSatisfying(ConversationStoreException.class, e -> {
            assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e.reason()).isEqualTo("HISTORY_TOO_LARGE");
            assertThat(e.metadata()).containsEntry("limit_bytes", "250").containsKey("resulting_bytes");
          });
      // Request size: gRPC's own limit, before any parsing.
      assertThatThrownBy(() -> client.save(base.clone()
          .addMessages(ConversationClient.message("{\"s\":\"" + "r".repeat(5000) + "\"}")).build()))
          .isInstanceOfSatisfying(ConversationStoreException.class,
              e -> assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));

      assertThat(client.get("limits").orElseThrow().toString()).isEqualTo(reference);
    }
  }
}
