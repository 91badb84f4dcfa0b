package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.client.ConversationClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * [server] network_threads: connections are spread over that many event loops, one thread each, so that a
 * connection moving large messages holds up few others (docs/guarantees.md has the bystander's figures). Counted in
 * the server process's own threads ({@code /proc/PID/task}): an event loop's thread starts with its first
 * connection.
 */
class NetworkThreadsIT {
  @TempDir
  Path dir;

  @Test
  void byDefaultEachOfNineConnectionsHasANetworkThreadOfItsOwn() throws Exception {
    try (ServerProcess server = ServerProcess.startSqlite(dir.resolve("default.db"))) {
      assertThat(networkThreadsAfterCallsOn(server, 9)).isEqualTo(9);
    }
  }

  @Test
  void connectionsShareTheConfiguredNumberOfThreads() throws Exception {
    try (ServerProcess server = ServerProcess.startSqlite(dir.resolve("three.db"), "--network-threads", "3")) {
      assertThat(networkThreadsAfterCallsOn(server, 9)).isEqualTo(3);
    }
  }

  /** Opens {@code connections} clients, one connection each, makes a call on each, counts the network threads. */
  private static long networkThreadsAfterCallsOn(ServerProcess server, int connections) throws Exception {
    List<ConversationClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < connections; i++) {
        ConversationClient c = ConversationClient.connect(server.target());
        clients.add(c);
        assertThat(c.get("nothing-" + i)).isEmpty();
      }
      return threadsNamed(server.pid(), "grpc-network");
    } finally {
      for (ConversationClient c : clients) {
        c.close();
      }
    }
  }

  private static long threadsNamed(long pid, String prefix) throws IOException {
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      return tasks.filter(t -> {
        try {
          return Files.readString(t.resolve("comm")).startsWith(prefix);
        } catch (IOException gone) {
          return false; // a thread that ended meanwhile
        }
      }).count();
    }
  }
}
