package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.vmpilot.conversation.v1.ConversationSummary;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.ListResponse;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * List page tokens are authenticated with a key kept in the store: one with its version changed is refused
 * (before, the token held an unkeyed fingerprint of tenant and filter beside a readable version, so anyone could
 * write a token for any position), and a real one stays good after a restart on the same file.
 */
class PageTokenIT {
  @TempDir
  Path dir;

  private static ListResponse list(ManagedChannel channel, String token) {
    return Rpc.stub(channel).list(ListRequest.newBuilder().setPageSize(1).setPageToken(token).build());
  }

  @Test
  void aTokenWithAnotherVersionIsRefusedAndARealOneOutlivesARestart() throws Exception {
    Path db = dir.resolve("tokens.db");
    String token;
    String secondThread;
    try (ServerProcess server = Rpc.startSqlite(db, "--database-durability", "normal")) {
      ManagedChannel channel = Rpc.channel(server.target());
      try {
        for (String t : new String[] {"a", "b", "c"}) {
          Rpc.stub(channel).save(SaveRequest.newBuilder().setThreadId(t)
              .addMessages(Message.newBuilder().setJson("{\"t\":\"" + t + "\"}")).build());
        }
        ListResponse first = list(channel, "");
        token = first.getNextPageToken();
        assertThat(token).isNotEmpty();
        secondThread = list(channel, token).getConversations(0).getThreadId();

        // The same token with the version moved on by one: a different place in the list, same tenant and filter.
        String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        String[] parts = raw.split(":", -1);
        long version = Long.parseLong(parts[1]);
        parts[1] = Long.toString(version + 1);
        String forged = Base64.getUrlEncoder().withoutPadding()
            .encodeToString(String.join(":", parts).getBytes(StandardCharsets.UTF_8));
        Throwable refused = catchThrowable(() -> list(channel, forged));
        assertThat(refused).as("a forged token").isNotNull();
        assertThat(Rpc.code(refused)).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(Rpc.errorInfo(refused)).hasValueSatisfying(
            info -> assertThat(info.getReason()).isEqualTo("INVALID_ARGUMENT"));
      } finally {
        Rpc.close(channel);
      }
    }
    try (ServerProcess again = Rpc.startSqlite(db, "--database-durability", "normal")) {
      ManagedChannel channel = Rpc.channel(again.target());
      try {
        ConversationSummary second = list(channel, token).getConversations(0);
        assertThat(second.getThreadId()).isEqualTo(secondThread);
      } finally {
        Rpc.close(channel);
      }
    }
  }
}
