package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationStoreException;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.AppendResponse;
import io.vmpilot.conversation.v1.ChangeKind;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.WatchRequest;
import io.vmpilot.conversation.v1.WatchResponse;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent's turn as one Append carrying its cache counters, over the real server process on a SQLite file: one
 * write (one version, one APPENDED change for Watch), counters merged as a Save merges them, a retry that changes
 * nothing, a refused turn that stores nothing, and an acknowledged turn that survives a SIGKILL whole.
 */
class AgentTurnIT {
  @TempDir
  Path dir;

  private static final String USER = "{\"role\":\"user\",\"content\":\"Fix the build\"}";
  private static final String ASSISTANT = "{\"role\":\"assistant\",\"content\":\"Done\"}";

  private static AppendRequest turn(String thread) {
    return AppendRequest.newBuilder().setThreadId(thread)
        .addMessages(ConversationClient.message("t1-user", USER))
        .addMessages(ConversationClient.message("t1-assistant", ASSISTANT))
        .putCacheInfo("input_tokens", 1200).putCacheInfo("output_tokens", 85)
        .build();
  }

  @Test
  void aTurnIsOneWriteAndSurvivesAKill() throws Exception {
    Path db = dir.resolve("turns.db");
    String thread = "agent-1";
    Conversation acknowledged;
    try (ServerProcess server = Rpc.startSqlite(db);
        ConversationClient client = ConversationClient.builder(server.target()).build()) {
      long saved = client.save(SaveRequest.newBuilder().setThreadId(thread)
          .addMessages(ConversationClient.message("s", "{\"role\":\"system\"}"))
          .putCacheInfo("cache_read_input_tokens", 7).putCacheInfo("input_tokens", 1).build()).getVersion();

      AppendResponse done = client.append(turn(thread));
      assertThat(done.getAppendedCount()).isEqualTo(2);
      acknowledged = client.get(thread).orElseThrow();
      assertThat(acknowledged.getVersion()).isEqualTo(done.getVersion());
      assertThat(acknowledged.getCacheInfoMap())
          .isEqualTo(Map.of("cache_read_input_tokens", 7L, "input_tokens", 1200L, "output_tokens", 85L));

      // The retry of the same request: nothing stored twice, no counter set again, the same version.
      AppendResponse retry = client.append(turn(thread));
      assertThat(retry.getAppendedCount()).isZero();
      assertThat(retry.getVersion()).isEqualTo(done.getVersion());
      // A turn with a bad counter key is refused whole.
      assertThatThrownBy(() -> client.append(AppendRequest.newBuilder().setThreadId(thread)
          .addMessages(ConversationClient.message("t2-user", USER)).putCacheInfo("in\u0000", 1).build()))
          .isInstanceOfSatisfying(ConversationStoreException.class, e -> {
            assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.reason()).isEqualTo("INVALID_ARGUMENT");
          });
      assertThat(client.get(thread).orElseThrow()).isEqualTo(acknowledged);

      // Watch from the Save on: the turn is one APPENDED change with both messages; the next change is the
      // next write's, so the counters took no change of their own.
      long next = client.updateMetadata(thread, Map.of("title", "t"), List.of()).getVersion();
      ManagedChannel channel = Rpc.channel(server.target());
      try {
        Iterator<WatchResponse> events = ConversationServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(Rpc.DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
            .watch(WatchRequest.newBuilder().setThreadId(thread).setStartVersion(saved).build());
        WatchResponse appended = events.next();
        assertThat(appended.getKind()).isEqualTo(ChangeKind.CHANGE_KIND_APPENDED);
        assertThat(appended.getVersion()).isEqualTo(done.getVersion());
        assertThat(appended.getFirstPosition()).isEqualTo(1);
        assertThat(appended.getMessagesList()).extracting(m -> m.getJson()).containsExactly(USER, ASSISTANT);
        WatchResponse after = events.next();
        assertThat(after.getVersion()).isEqualTo(next);
        assertThat(after.getKind()).isEqualTo(ChangeKind.CHANGE_KIND_METADATA_UPDATED);
      } finally {
        Rpc.close(channel);
      }
      server.kill();
    }

    try (ServerProcess server = Rpc.startSqlite(db);
        ConversationClient client = ConversationClient.builder(server.target()).build()) {
      Conversation again = client.get(thread).orElseThrow();
      assertThat(again.getMessagesList()).isEqualTo(acknowledged.getMessagesList());
      assertThat(again.getCacheInfoMap()).isEqualTo(acknowledged.getCacheInfoMap());
    }
  }
}
