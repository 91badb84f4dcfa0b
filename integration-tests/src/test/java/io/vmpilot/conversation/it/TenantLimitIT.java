package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationStoreException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** [limits] max_conversations_per_tenant against the real server, on both backends. */
class TenantLimitIT {
  @TempDir
  Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "memory"})
  void creatingOneConversationTooManyIsResourceExhausted(String backend) throws Exception {
    List<String> args = new ArrayList<>(List.of("--max-conversations-per-tenant", "3", "--auth-enabled", "true"));
    if (backend.equals("memory")) {
      args.addAll(List.of("--database-enabled", "false"));
    } else {
      args.addAll(List.of("--database-path", dir.resolve("limit.db").toString()));
    }
    try (ServerProcess server = ServerProcess.start(args, null,
            Map.of("VMPILOT_AUTH_TOKENS", "alice=limit-alice,bob=limit-bob"));
        ConversationClient alice = ConversationClient.builder(server.target()).bearerToken("limit-alice").build();
        ConversationClient bob = ConversationClient.builder(server.target()).bearerToken("limit-bob").build()) {
      alice.save("c1", List.of("{}"));
      alice.append("c2", List.of("{}"));
      alice.save("c3", List.of());

      for (Runnable create : List.<Runnable>of(
          () -> alice.save("c4", List.of("{}")), () -> alice.append("c4", List.of("{}")))) {
        assertThatThrownBy(create::run).isInstanceOfSatisfying(ConversationStoreException.class, e -> {
          assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          assertThat(e.reason()).isEqualTo("TENANT_CONVERSATION_LIMIT");
          assertThat(e.metadata()).containsEntry("limit", "3").containsEntry("tenant", "alice")
              .containsEntry("thread_id", "c4");
          assertThat(e.getMessage()).contains("3 conversations");
        });
      }
      assertThat(alice.get("c4")).isEmpty();

      // Existing conversations stay writable; the other tenant has its own count.
      assertThat(alice.append("c1", List.of("{\"more\":1}")).getMessageCount()).isEqualTo(2);
      assertThat(alice.updateCache("c3", Map.of("input_tokens", 5L)).getVersion()).isPositive();
      assertThat(bob.save("c4", List.of("{}")).getCreated()).isTrue();

      // Clearing one makes room for another.
      assertThat(alice.clear("c2")).isTrue();
      assertThat(alice.save("c4", List.of("{}")).getCreated()).isTrue();
    }
  }
}
