package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two server processes on one SQLite file would hand out the same versions: the second one refuses to start, with
 * a message that says why, and the first goes on serving. Once the first has stopped, or been killed, the file is
 * free again.
 */
class SecondServerIT {
  @TempDir
  Path dir;

  @Test
  void aSecondServerOnTheSameFileRefusesToStartAndTheFirstIsUntouched() throws Exception {
    Path db = dir.resolve("shared.db");
    try (ServerProcess first = Rpc.startSqlite(db)) {
      ManagedChannel channel = Rpc.channel(first.target());
      try {
        long version = Rpc.stub(channel).append(AppendRequest.newBuilder().setThreadId("t")
            .addMessages(Message.newBuilder().setJson("{\"n\":1}")).build()).getVersion();

        assertThatThrownBy(() -> Rpc.startSqlite(db)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("did not start")
            .hasMessageContaining("in use by another conversation server")
            .hasMessageContaining("shared.db.lock");

        long next = Rpc.stub(channel).append(AppendRequest.newBuilder().setThreadId("t")
            .addMessages(Message.newBuilder().setJson("{\"n\":2}")).build()).getVersion();
        assertThat(next).isGreaterThan(version);
      } finally {
        Rpc.close(channel);
      }
      first.kill(); // SIGKILL: the operating system lets go of the lock, no clean shutdown needed
    }
    assertThat(Files.exists(dir.resolve("shared.db.lock"))).isTrue();

    try (ServerProcess again = Rpc.startSqlite(db)) {
      ManagedChannel channel = Rpc.channel(again.target());
      try {
        assertThat(Rpc.stub(channel).get(GetRequest.newBuilder().setThreadId("t").build())
            .getConversation().getMessagesCount()).isEqualTo(2);
      } finally {
        Rpc.close(channel);
      }
    }
  }
}
