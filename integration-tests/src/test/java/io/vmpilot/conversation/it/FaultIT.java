package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ClearRequest;
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
  private static final long RESERVE_BYTES = 4L << 20;

  @TempDir
  Path dir;

  @Test
  void fullDiskFailsWritesCleanlyAndRecovers() throws Exception {
    long started = System.nanoTime();
    Path mount = Files.createDirectories(dir.resolve("small-fs"));
    Path out = Files.createDirectories(dir.resolve("after-stop"));
    List<String> prefix = smallFsPrefix(mount, out);
    Path db = mount.resolve("conversations.db");

    ServerProcess server = ServerProcess.launch(prefix, Rpc.FAST_START_JVM,
        List.of("--database-path", db.toString(), "--max-inbound-message-bytes", Integer.toString(8 << 20),
            "--database-disk-reserve-bytes", Long.toString(RESERVE_BYTES)), null, Map.of());
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

  /**
   * The command prefix that runs a server with a {@link #FS_SIZE} tmpfs on {@code mount} in a private mount
   * namespace, and copies the database files to {@code out} once it has exited (the tmpfs dies with it). With
   * SEED=path in its environment the files of that database are copied onto the tmpfs first; with FILL=1 the
   * tmpfs is filled (a file "filler") before the server starts, leaving 256 KiB free. Skips the test if no such
   * namespace can be had here.
   */
  private List<String> smallFsPrefix(Path mount, Path out) throws IOException, InterruptedException {
    Path wrapper = dir.resolve("on-small-fs.sh");
    Files.writeString(wrapper, String.join("\n",
        "#!/bin/sh",
        "# usage: on-small-fs.sh MOUNT SIZE OUT COMMAND... : runs COMMAND with a SIZE tmpfs on MOUNT, forwards",
        "# SIGTERM to it, and once it has exited copies the database files to OUT (the tmpfs dies with us).",
        "mnt=$1; size=$2; out=$3; shift 3",
        "mount -t tmpfs -o size=$size tmpfs \"$mnt\" || exit 97",
        "if [ -n \"$SEED\" ]; then cp -p \"$SEED\" \"$mnt\"/conversations.db || exit 96; fi",
        "if [ -n \"$FILL\" ]; then dd if=/dev/zero of=\"$mnt\"/filler bs=64k 2>/dev/null;"
            + " truncate -s -256K \"$mnt\"/filler || exit 95; fi",
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
    return prefix;
  }

  /**
   * Finding 8 of issue 23: on a full disk a Clear failed with STORAGE_FULL too, so nothing could free space. Now
   * the server gives up its disk reserve for the Clear, which succeeds; health stays NOT_SERVING until the
   * filesystem has room for the reserve again, and then the reserve is written again.
   */
  @Test
  void aClearOnAFullDiskSucceedsThroughTheDiskReserve() throws Exception {
    Path mount = Files.createDirectories(dir.resolve("small-fs"));
    Path out = Files.createDirectories(dir.resolve("after-stop"));
    List<String> prefix = smallFsPrefix(mount, out);
    Path db = mount.resolve("conversations.db");
    ServerProcess server = ServerProcess.launch(prefix, Rpc.FAST_START_JVM,
        List.of("--database-path", db.toString(), "--max-inbound-message-bytes", Integer.toString(8 << 20),
            "--database-disk-reserve-bytes", Long.toString(RESERVE_BYTES)), null, Map.of());
    ManagedChannel ch = Rpc.channel(server.target());
    try {
      Path inside = Path.of("/proc/" + server.pid() + "/root" + mount.toAbsolutePath());
      Path reserve = inside.resolve("conversations.db.reserve");
      assertThat(Files.size(reserve)).as("the reserve, written at start-up").isEqualTo(RESERVE_BYTES);
      String big = "{\"pad\":\"" + "v".repeat(256 * 1024) + "\"}";
      int victims = 3;
      for (int v = 0; v < victims; v++) {
        for (int i = 0; i < 4; i++) {
          append(ch, "victim-" + v, "m" + i, big);
        }
      }
      assertThat(Rpc.health(ch)).isEqualTo(ServingStatus.SERVING);

      fill(inside.resolve("filler"));
      Throwable full = null;
      for (int i = 0; i < 200 && full == null; i++) {
        try {
          append(ch, "writes", "w" + i, big);
        } catch (RuntimeException e) {
          full = e;
        }
      }
      assertThat(full).as("a write failed once the disk was full").isNotNull();
      assertThat(Rpc.code(full)).isIn(Status.Code.RESOURCE_EXHAUSTED, Status.Code.UNAVAILABLE);
      assertThat(Rpc.awaitHealth(ch, s -> s == ServingStatus.NOT_SERVING, Duration.ofSeconds(20)))
          .isEqualTo(ServingStatus.NOT_SERVING);

      // The Clear succeeds, on the reserve's space.
      assertThat(Rpc.stub(ch).clear(ClearRequest.newBuilder().setThreadId("victim-0")
          .build()).getDeleted()).isTrue();
      assertThatThrownBy(() -> get(ch, "victim-0")).satisfies(e -> assertThat(Rpc.code(e))
          .isEqualTo(Status.Code.NOT_FOUND));
      // Whether this Clear needed the reserve depends on how much log space SQLite already held; when it did, the
      // server gave the reserve up (and logged it).
      boolean released = !Files.exists(reserve);
      int moreCleared = 0;
      TreeMap<String, Integer> laterClearFailures = new TreeMap<>();
      for (int v = 1; v < victims; v++) {
        try {
          Rpc.stub(ch).clear(ClearRequest.newBuilder().setThreadId("victim-" + v)
              .build());
          moreCleared++;
        } catch (RuntimeException e) {
          record(laterClearFailures, e);
        }
      }
      ServingStatus healthBeforeSpace = Rpc.health(ch);

      Files.delete(inside.resolve("filler"));
      assertThat(Rpc.awaitHealth(ch, s -> s == ServingStatus.SERVING, Duration.ofSeconds(30)))
          .isEqualTo(ServingStatus.SERVING);
      assertThat(Files.size(reserve)).as("the reserve, written again once there was room").isEqualTo(RESERVE_BYTES);
      append(ch, "writes", "after", "{\"space\":\"returned\"}");
      assertThat(server.output().contains("released the disk reserve")).isEqualTo(released);
      System.out.printf("FaultIT: full-disk clear ok, reserve_bytes=%d reserve_released=%b later_clears_ok=%d"
              + " later_clear_failures=%s health_while_full=%s reserve_rewritten=true%n", RESERVE_BYTES, released,
          moreCleared, laterClearFailures, healthBeforeSpace);
    } catch (Throwable t) {
      System.out.println("FaultIT: server output:\n" + server.output());
      throw t;
    } finally {
      Rpc.close(ch);
      int exit = server.isAlive() ? server.stop() : -1;
      ProcessHandle.of(server.pid()).ifPresent(h -> h.descendants().forEach(ProcessHandle::destroyForcibly));
      assertThat(exit).as("exit code; output:%n%s", server.output()).isZero();
    }
  }

  /**
   * Finding 8 of issue 23: a server restarted on a full disk said SERVING until a write failed. Now its first
   * health check already says NOT_SERVING (it looks at the free space), reads work, and once space returns it is
   * SERVING with its reserve written.
   */
  @Test
  void aServerStartedOnAFullDiskIsNotServingFromItsFirstHealthCheck() throws Exception {
    Path seed = dir.resolve("seed.db");
    try (ServerProcess first = Rpc.startSqlite(seed)) {
      ManagedChannel ch = Rpc.channel(first.target());
      append(ch, "kept", "k1", "{\"written\":\"before the restart\"}");
      Rpc.close(ch);
      assertThat(first.stop()).isZero();
    }
    Path mount = Files.createDirectories(dir.resolve("small-fs"));
    Path out = Files.createDirectories(dir.resolve("after-stop"));
    List<String> prefix = smallFsPrefix(mount, out);
    Path db = mount.resolve("conversations.db");
    ServerProcess server = ServerProcess.launch(prefix, Rpc.FAST_START_JVM,
        List.of("--database-path", db.toString(), "--database-disk-reserve-bytes", Long.toString(RESERVE_BYTES)),
        null, Map.of("SEED", seed.toString(), "FILL", "1"));
    ManagedChannel ch = Rpc.channel(server.target());
    try {
      Path inside = Path.of("/proc/" + server.pid() + "/root" + mount.toAbsolutePath());
      assertThat(Files.exists(inside.resolve("filler"))).as("the disk filled before the server started").isTrue();
      assertThat(Rpc.health(ch)).as("health at once, no write made").isEqualTo(ServingStatus.NOT_SERVING);
      assertThat(get(ch, "kept").getMessageCount()).isEqualTo(1);
      assertThat(server.output()).contains("disk is");

      Files.delete(inside.resolve("filler"));
      assertThat(Rpc.awaitHealth(ch, s -> s == ServingStatus.SERVING, Duration.ofSeconds(30)))
          .isEqualTo(ServingStatus.SERVING);
      assertThat(Files.size(inside.resolve("conversations.db.reserve"))).isEqualTo(RESERVE_BYTES);
      append(ch, "kept", "k2", "{}");
      System.out.println("FaultIT: started on a full disk: health NOT_SERVING at once -> SERVING after space");
    } catch (Throwable t) {
      System.out.println("FaultIT: server output:\n" + server.output());
      throw t;
    } finally {
      Rpc.close(ch);
      int exit = server.isAlive() ? server.stop() : -1;
      ProcessHandle.of(server.pid()).ifPresent(h -> h.descendants().forEach(ProcessHandle::destroyForcibly));
      assertThat(exit).as("exit code; output:%n%s", server.output()).isZero();
    }
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
