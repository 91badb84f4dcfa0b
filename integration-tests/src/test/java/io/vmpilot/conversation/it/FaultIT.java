package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk, for real: the server runs in a private mount namespace ({@code unshare}) with its database on a
 * small tmpfs; the test fills that filesystem with a filler file (reached through {@code /proc/PID/root}), then
 * frees it. While the disk is full, writes must fail with RESOURCE_EXHAUSTED (STORAGE_FULL) or UNAVAILABLE,
 * reads keep working and health is NOT_SERVING; once space returns, health is SERVING again and writes succeed;
 * after the server stops, {@code PRAGMA integrity_check} is ok and every acknowledged write is there.
 */
class FaultIT {
  private static final String FS_SIZE = "24m";

  @TempDir
  Path dir;

  @Test
  void fullDiskFailsWritesCleanlyAndRecovers() throws Exception {
    long started = System.nanoTime();
    Path mount = Files.createDirectories(dir.resolve("small-fs"));
    Path out = Files.createDirectories(dir.resolve("after-stop"));
    Path wrapper = dir.resolve("on-small-fs.sh");
    Files.writeString(wrapper, String.join("\n",
        "#!/bin/sh",
        "# usage: on-small-fs.sh MOUNT SIZE OUT COMMAND... : runs COMMAND with a SIZE tmpfs on MOUNT, forwards",
        "# SIGTERM to it, and once it has exited copies the database files to OUT (the tmpfs dies with us).",
        "mnt=$1; size=$2; out=$3; shift 3",
        "mount -t tmpfs -o size=$size tmpfs \"$mnt\" || exit 97",
        "\"$@\" &",
        "pid=$!",
        "trap 'kill -TERM $pid 2>/dev/null' TERM INT",
        "wait $pid; rc=$?",
        "while kill -0 $pid 2>/dev/null; do wait $pid; rc=$?; done",
        "cp -p \"$mnt\"/conversations.db* \"$out\"/ 2>/dev/null",
        "exit $rc", ""));
    List<String> unshare = unshareCommand(mount);
    Assumptions.assumeTrue(unshare != null, "cannot mount a size-limited tmpfs in a private mount namespace here"
        + " (needs unshare and either root or unprivileged user namespaces)");
    List<String> prefix = new ArrayList<>(unshare);
    prefix.addAll(List.of("sh", wrapper.toString(), mount.toString(), FS_SIZE, out.toString()));
    Path db = mount.resolve("conversations.db");

    ServerProcess server = ServerProcess.launch(prefix, Rpc.FAST_START_JVM,
        List.of("--database-path", db.toString(), "--max-inbound-message-bytes", Integer.toString(8 << 20)), null, Map.of());
    ManagedChannel ch = Rpc.channel(server.target());
    int acknowledged = 0;
    int failedWrites = 0;
    TreeMap<String, Integer> failureReasons = new TreeMap<>();
    try {
      // Seen from inside the server's namespace: the tmpfs, not the empty directory we see.
      Path inside = Path.of("/proc/" + server.pid() + "/root" + mount.toAbsolutePath());
      assertThat(Files.exists(inside.resolve("conversations.db"))).as("database on the small filesystem").isTrue();

      Rpc.stub(ch).save(SaveRequest.newBuilder().setThreadId("reference")
          .addAllMessages(TrickyMessages.ALL.stream().map(j -> Message.newBuilder().setJson(j).build()).toList())
          .putMetadata("k", "v").build());
      byte[] reference = get(ch, "reference").toByteArray();
      assertThat(Rpc.health(ch)).isEqualTo(ServingStatus.SERVING);

      append(ch, "writes", "w" + acknowledged++, "{\"before\":\"the disk filled\"}");

      long filled = fill(inside.resolve("filler"));
      String big = "{\"pad\":\"" + "z".repeat(256 * 1024) + "\"}";
      Throwable firstFailure = null;
      int acceptedWhileFull = 0;
      for (int i = 0; i < 200 && firstFailure == null; i++) { // the disk fills long before 200 x 256 KiB
        try {
          append(ch, "writes", "w" + acknowledged, big);
          acknowledged++;
          acceptedWhileFull++; // fits in space SQLite already holds (e.g. a reused WAL)
        } catch (RuntimeException e) {
          firstFailure = e;
        }
      }
      assertThat(firstFailure).as("a write failed once the disk was full").isNotNull();
      failedWrites++;
      record(failureReasons, firstFailure);
      assertThat(Rpc.code(firstFailure)).isIn(Status.Code.RESOURCE_EXHAUSTED, Status.Code.UNAVAILABLE);
      if (Rpc.code(firstFailure) == Status.Code.RESOURCE_EXHAUSTED) {
        assertThat(Rpc.errorInfo(firstFailure).map(ErrorInfo::getReason)).contains("STORAGE_FULL");
      }
      // Reads keep working, and show nothing of the failed write.
      assertThat(get(ch, "reference").toByteArray()).as("reference readable and unchanged").isEqualTo(reference);
      assertThat(get(ch, "writes").getMessageCount()).isEqualTo(acknowledged);
      // Health says so.
      assertThat(Rpc.awaitHealth(ch, s -> s == ServingStatus.NOT_SERVING, Duration.ofSeconds(20)))
          .as("health while writes fail").isEqualTo(ServingStatus.NOT_SERVING);
      // Still full: a small write fails too, or (if it fit in space SQLite already holds) succeeds whole.
      try {
        append(ch, "writes", "w" + acknowledged, "{\"small\":true}");
        acknowledged++;
      } catch (RuntimeException e) {
        failedWrites++;
        record(failureReasons, e);
        assertThat(Rpc.code(e)).isIn(Status.Code.RESOURCE_EXHAUSTED, Status.Code.UNAVAILABLE);
      }

      // Space returns: health recovers on its own (its probe write), and writes succeed again.
      Files.delete(inside.resolve("filler"));
      assertThat(Rpc.awaitHealth(ch, s -> s == ServingStatus.SERVING, Duration.ofSeconds(30)))
          .as("health after space returned, without any client write").isEqualTo(ServingStatus.SERVING);
      for (int i = 0; i < 3; i++) {
        append(ch, "writes", "w" + acknowledged, big);
        acknowledged++;
      }
      assertThat(get(ch, "reference").toByteArray()).isEqualTo(reference);
      System.out.printf("FaultIT: filesystem=tmpfs:%s filler_bytes=%d accepted_while_full=%d acknowledged=%d"
              + " failed_writes=%d failures=%s health=NOT_SERVING->SERVING%n", FS_SIZE, filled, acceptedWhileFull,
          acknowledged, failedWrites,
          failureReasons);
    } catch (Throwable t) {
      System.out.println("FaultIT: server output:\n" + server.output());
      throw t;
    } finally {
      Rpc.close(ch);
      int exit = server.isAlive() ? server.stop() : -1;
      ProcessHandle.of(server.pid()).ifPresent(h -> h.descendants().forEach(ProcessHandle::destroyForcibly));
      assertThat(exit).as("exit code; output:%n%s", server.output()).isZero();
    }

    // The file, copied off the tmpfs after the server stopped: intact, and holding every acknowledged write.
    Path copy = out.resolve("conversations.db");
    assertThat(copy).exists();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + copy);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("PRAGMA integrity_check")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("ok");
    }
    try (ServerProcess again = Rpc.startSqlite(copy)) {
      ManagedChannel ch2 = Rpc.channel(again.target());
      Conversation writes = get(ch2, "writes");
      assertThat(writes.getMessagesList().stream().map(Message::getId).toList())
          .as("every acknowledged write, once, in order")
          .isEqualTo(java.util.stream.IntStream.range(0, acknowledged).mapToObj(i -> "w" + i).toList());
      Rpc.close(ch2);
    }
    System.out.printf("FaultIT: integrity_check=ok lost=0 seconds=%.1f%n", (System.nanoTime() - started) / 1e9);
  }

  private static void record(TreeMap<String, Integer> reasons, Throwable e) {
    String reason = Rpc.code(e) + Rpc.errorInfo(e).map(i -> "/" + i.getReason()).orElse("");
    reasons.merge(reason, 1, Integer::sum);
  }

  private static Conversation get(ManagedChannel ch, String thread) {
    return Rpc.stub(ch).get(GetRequest.newBuilder().setThreadId(thread).build()).getConversation();
  }

  private static void append(ManagedChannel ch, String thread, String id, String json) {
    Rpc.stub(ch).append(AppendRequest.newBuilder().setThreadId(thread)
        .addMessages(Message.newBuilder().setId(id).setJson(json)).build());
  }

  /** Writes {@code file} until the filesystem is full; returns its size. */
  private static long fill(Path file) throws IOException {
    byte[] chunk = new byte[64 * 1024];
    long written = 0;
    try (OutputStream os = Files.newOutputStream(file)) {
      for (int i = 0; i < 100_000; i++) { // bounded; a 24 MiB filesystem is full after ~400 chunks
        os.write(chunk);
        written += chunk.length;
      }
    } catch (IOException e) {
      if (!String.valueOf(e.getMessage()).contains("space")) {
        throw e;
      }
      return written;
    }
    throw new IllegalStateException("the filesystem never filled up");
  }

  /**
   * How to get a private mount namespace in which tmpfs can be mounted: as root {@code unshare --mount}; else
   * through an unprivileged user namespace. Null if neither works here.
   */
  private static List<String> unshareCommand(Path probeDir) throws InterruptedException {
    for (List<String> candidate : List.of(List.of("unshare", "--mount"),
        List.of("unshare", "--user", "--map-root-user", "--mount"))) {
      List<String> probe = new ArrayList<>(candidate);
      probe.addAll(List.of("sh", "-c", "mount -t tmpfs -o size=1m tmpfs \"$0\"", probeDir.toString()));
      try {
        Process p = new ProcessBuilder(probe).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
          return candidate;
        }
        System.out.println("FaultIT: " + candidate + " cannot mount tmpfs: " + output.strip());
      } catch (IOException e) {
        System.out.println("FaultIT: " + candidate + " unavailable: " + e.getMessage());
      }
    }
    return null;
  }
}
