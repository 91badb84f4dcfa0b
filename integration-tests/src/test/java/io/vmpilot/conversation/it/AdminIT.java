package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.BackupRequest;
import io.vmpilot.conversation.v1.ConversationAdminServiceGrpc;
import io.vmpilot.conversation.v1.ConversationRecord;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.ExistingConversationPolicy;
import io.vmpilot.conversation.v1.ExportRequest;
import io.vmpilot.conversation.v1.ExportResponse;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.GetServerStatusRequest;
import io.vmpilot.conversation.v1.GetServerStatusResponse;
import io.vmpilot.conversation.v1.ImportRequest;
import io.vmpilot.conversation.v1.ImportResponse;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export, Import, GetServerStatus and Backup over real server processes: a dump moves memory -> SQLite ->
 * PostgreSQL unchanged, importing it again changes nothing, an export resumes after a cursor, and a SQLite backup
 * serves on a new server.
 */
class AdminIT {
  @TempDir
  Path dir;

  static ConversationAdminServiceGrpc.ConversationAdminServiceBlockingStub admin(ManagedChannel channel) {
    return ConversationAdminServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(Rpc.DEADLINE.toMillis() * 3, TimeUnit.MILLISECONDS);
  }

  static List<ConversationRecord> export(ManagedChannel channel, ExportRequest request) {
    List<ConversationRecord> records = new ArrayList<>();
    Iterator<ExportResponse> it = admin(channel).export(request);
    it.forEachRemaining(r -> records.add(r.getConversation()));
    return records;
  }

  static ImportResponse importAll(ManagedChannel channel, List<ConversationRecord> records,
      ExistingConversationPolicy policy) throws Exception {
    CompletableFuture<ImportResponse> done = new CompletableFuture<>();
    StreamObserver<ImportRequest> requests = ConversationAdminServiceGrpc.newStub(channel)
        .withDeadlineAfter(Rpc.DEADLINE.toMillis() * 3, TimeUnit.MILLISECONDS)
        .import_(new StreamObserver<>() {
          @Override
          public void onNext(ImportResponse value) {
            done.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    for (ConversationRecord r : records) {
      requests.onNext(ImportRequest.newBuilder().setConversation(r).setOnExisting(policy).build());
    }
    requests.onCompleted();
    return done.get(60, TimeUnit.SECONDS);
  }

  /** Conversations with tricky messages, ids, big counters, metadata, one of 10,000 messages, one appended to. */
  static void fill(ConversationServiceBlockingStub stub) {
    for (int i = 0; i < 5; i++) {
      SaveRequest.Builder save = SaveRequest.newBuilder().setThreadId("thread-" + i + "-ünï/🚀")
          .putCacheInfo("input_tokens", Long.MAX_VALUE - i).putCacheInfo("cache_read_input_tokens", i)
          .putMetadata("project_root", "/src/p" + (i % 2)).putMetadata("initial_request", "fix the bug ✓ " + i);
      for (int m = 0; m < TrickyMessages.ALL.size(); m++) {
        save.addMessages(Message.newBuilder().setId(m % 2 == 0 ? "" : "id-" + m).setJson(TrickyMessages.ALL.get(m)));
      }
      stub.save(save.build());
    }
    stub.append(AppendRequest.newBuilder().setThreadId("thread-1-ünï/🚀")
        .addMessages(Message.newBuilder().setId("later").setJson("{\"role\":\"user\",\"content\":\"more\"}"))
        .build());
    SaveRequest.Builder big = SaveRequest.newBuilder().setThreadId("big");
    for (int m = 0; m < 10_000; m++) {
      big.addMessages(Message.newBuilder().setJson("{\"role\":\"user\",\"n\":" + m + "}"));
    }
    stub.save(big.build());
  }

  @Test
  void aDumpMovesFromMemoryToSqliteToPostgresUnchanged() throws Exception {
    List<ConversationRecord> fromMemory;
    try (ServerProcess memory = ServerProcess.launch(List.of(), Rpc.FAST_START_JVM,
        List.of("--database-enabled", "false"), null, java.util.Map.of())) {
      ManagedChannel channel = Rpc.channel(memory.target());
      try {
        fill(Rpc.stub(channel));
        fromMemory = export(channel, ExportRequest.getDefaultInstance());
      } finally {
        Rpc.close(channel);
      }
    }
    assertThat(fromMemory).hasSize(6);
    assertThat(fromMemory).extracting(ConversationRecord::getThreadId).isSorted();
    assertThat(fromMemory.get(0).getMessagesCount()).isEqualTo(10_000);
    assertThat(fromMemory.get(2).getMessages(7).getId()).isEqualTo("later");

    List<ConversationRecord> fromSqlite;
    try (ServerProcess sqlite = Rpc.startSqlite(dir.resolve("copy.db"))) {
      ManagedChannel channel = Rpc.channel(sqlite.target());
      try {
        ImportResponse first = importAll(channel, fromMemory, ExistingConversationPolicy.EXISTING_CONVERSATION_POLICY_UNSPECIFIED);
        assertThat(first.getImported()).isEqualTo(6);
        assertThat(first.getFailed()).isZero();
        fromSqlite = export(channel, ExportRequest.getDefaultInstance());
        assertThat(fromSqlite).isEqualTo(fromMemory);

        // Importing the same dump again changes nothing: every record skipped, every version as it was.
        var before = Rpc.stub(channel).list(ListRequest.newBuilder().setPageSize(100).build());
        ImportResponse second = importAll(channel, fromMemory, ExistingConversationPolicy.EXISTING_CONVERSATION_POLICY_FAIL);
        assertThat(second.getSkipped()).isEqualTo(6);
        assertThat(second.getImported() + second.getFailed() + second.getReplaced()).isZero();
        assertThat(Rpc.stub(channel).list(ListRequest.newBuilder().setPageSize(100).build())).isEqualTo(before);

        GetServerStatusResponse status = admin(channel).getServerStatus(GetServerStatusRequest.getDefaultInstance());
        assertThat(status.getBackend()).isEqualTo("sqlite");
        assertThat(status.getConversationCount()).isEqualTo(6);
        assertThat(status.getMessageCount()).isEqualTo(10_000 + 5 * TrickyMessages.ALL.size() + 1);
        assertThat(status.getSchemaVersion()).isNotEmpty();
        assertThat(status.getDatabaseBytes()).isPositive();
        assertThat(status.getDurability()).isEqualTo("full");
      } finally {
        Rpc.close(channel);
      }
    }

    try (PostgresFleet fleet = PostgresFleet.start(1)) {
      ManagedChannel channel = Rpc.channel(fleet.server(0).target());
      try {
        assertThat(importAll(channel, fromSqlite, ExistingConversationPolicy.EXISTING_CONVERSATION_POLICY_FAIL)
            .getImported()).isEqualTo(6);
        assertThat(export(channel, ExportRequest.getDefaultInstance())).isEqualTo(fromMemory);
        assertThat(admin(channel).getServerStatus(GetServerStatusRequest.getDefaultInstance()).getBackend())
            .isEqualTo("postgres");
      } finally {
        Rpc.close(channel);
      }
    }
  }

  @Test
  void anExportResumesAfterItsCursorAndFilters() throws Exception {
    try (ServerProcess sqlite = Rpc.startSqlite(dir.resolve("resume.db"))) {
      ManagedChannel channel = Rpc.channel(sqlite.target());
      try {
        fill(Rpc.stub(channel));
        List<ConversationRecord> all = export(channel, ExportRequest.getDefaultInstance());
        // A client that received the first two and lost the stream asks for what follows the second.
        List<ConversationRecord> rest = export(channel, ExportRequest.newBuilder()
            .setStartAfterThreadId(all.get(1).getThreadId()).build());
        assertThat(rest).isEqualTo(all.subList(2, all.size()));
        assertThat(export(channel, ExportRequest.newBuilder().putMetadataFilter("project_root", "/src/p1").build()))
            .extracting(ConversationRecord::getThreadId).containsExactly("thread-1-ünï/🚀", "thread-3-ünï/🚀");
        assertThat(export(channel, ExportRequest.newBuilder().addThreadIds("big").addThreadIds("none").build()))
            .extracting(ConversationRecord::getThreadId).containsExactly("big");
        assertThatThrownBy(() -> export(channel, ExportRequest.newBuilder().addThreadIds("").build()))
            .satisfies(e -> assertThat(Rpc.code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT));
      } finally {
        Rpc.close(channel);
      }
    }
  }

  @Test
  void importFollowsItsPolicyAndReportsBadRecordsByIndex() throws Exception {
    try (ServerProcess sqlite = Rpc.startSqlite(dir.resolve("policy.db"))) {
      ManagedChannel channel = Rpc.channel(sqlite.target());
      try {
        ConversationRecord a = ConversationRecord.newBuilder().setThreadId("a")
            .addMessages(Message.newBuilder().setJson("{\"v\":1}")).build();
        ConversationRecord a2 = a.toBuilder().setMessages(0, Message.newBuilder().setJson("{\"v\":2}")).build();
        ConversationRecord bad = ConversationRecord.newBuilder().setThreadId("bad")
            .addMessages(Message.newBuilder().setJson("not json")).build();
        var fail = ExistingConversationPolicy.EXISTING_CONVERSATION_POLICY_FAIL;
        assertThat(importAll(channel, List.of(a), fail).getImported()).isEqualTo(1);

        ImportResponse conflict = importAll(channel, List.of(bad, a2), fail);
        assertThat(conflict.getFailed()).isEqualTo(2);
        assertThat(conflict.getFailuresList()).extracting(f -> f.getIndex() + " " + f.getReason())
            .containsExactly("0 INVALID_ARGUMENT", "1 CONVERSATION_EXISTS");
        assertThatThrownBy(() -> Rpc.stub(channel).get(GetRequest.newBuilder().setThreadId("bad").build()))
            .satisfies(e -> assertThat(Rpc.code(e)).isEqualTo(Status.Code.NOT_FOUND));

        assertThat(importAll(channel, List.of(a2), ExistingConversationPolicy.EXISTING_CONVERSATION_POLICY_SKIP)
            .getSkipped()).isEqualTo(1);
        assertThat(Rpc.stub(channel).get(GetRequest.newBuilder().setThreadId("a").build())
            .getConversation().getMessages(0).getJson()).isEqualTo("{\"v\":1}");
        assertThat(importAll(channel, List.of(a2), ExistingConversationPolicy.EXISTING_CONVERSATION_POLICY_REPLACE)
            .getReplaced()).isEqualTo(1);
        assertThat(Rpc.stub(channel).get(GetRequest.newBuilder().setThreadId("a").build())
            .getConversation().getMessages(0).getJson()).isEqualTo("{\"v\":2}");
      } finally {
        Rpc.close(channel);
      }
    }
  }

  @Test
  void aBackupTakenWhileServingRestoresOnANewServer() throws Exception {
    Path backup = dir.resolve("backup.db");
    List<ConversationRecord> before;
    try (ServerProcess sqlite = Rpc.startSqlite(dir.resolve("live.db"))) {
      ManagedChannel channel = Rpc.channel(sqlite.target());
      try {
        fill(Rpc.stub(channel));
        before = export(channel, ExportRequest.getDefaultInstance());
        var response = admin(channel).backup(BackupRequest.newBuilder().setPath(backup.toString()).build());
        assertThat(response.getBytes()).isEqualTo(Files.size(backup));
        assertThatThrownBy(() -> admin(channel).backup(BackupRequest.newBuilder().setPath(backup.toString()).build()))
            .satisfies(e -> assertThat(Rpc.code(e)).isEqualTo(Status.Code.ALREADY_EXISTS));
        assertThatThrownBy(() -> admin(channel).backup(BackupRequest.newBuilder().setPath("relative.db").build()))
            .satisfies(e -> assertThat(Rpc.code(e)).isEqualTo(Status.Code.INVALID_ARGUMENT));
        // Written after the backup: not in it.
        Rpc.stub(channel).save(SaveRequest.newBuilder().setThreadId("after").build());
      } finally {
        Rpc.close(channel);
      }
    }
    try (ServerProcess restored = Rpc.startSqlite(backup)) {
      ManagedChannel channel = Rpc.channel(restored.target());
      try {
        assertThat(export(channel, ExportRequest.getDefaultInstance())).isEqualTo(before);
      } finally {
        Rpc.close(channel);
      }
    }
  }

  /** Asks for a backup at {@code target} and expects PERMISSION_DENIED, BACKUP_OUTSIDE_DIRECTORY; none written. */
  private static void refusedOutside(ManagedChannel channel, Path target) {
    assertThatThrownBy(() -> admin(channel).backup(BackupRequest.newBuilder().setPath(target.toString()).build()))
        .as("backup to %s", target)
        .satisfies(e -> {
          assertThat(Rpc.code(e)).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(Rpc.errorInfo(e).orElseThrow().getReason()).isEqualTo("BACKUP_OUTSIDE_DIRECTORY");
        });
  }

  @Test
  void aBackupIsWrittenOnlyInsideTheBackupDirectory(@TempDir Path outside) throws Exception {
    Path backups = Files.createDirectories(dir.resolve("backups"));
    Files.createSymbolicLink(backups.resolve("out"), outside);
    try (ServerProcess sqlite = Rpc.startSqlite(dir.resolve("db").resolve("live.db"),
        "--backup-directory", backups.toString())) {
      ManagedChannel channel = Rpc.channel(sqlite.target());
      try {
        Rpc.stub(channel).save(SaveRequest.newBuilder().setThreadId("t").build());
        refusedOutside(channel, outside.resolve("copy.db"));
        refusedOutside(channel, dir.resolve("db").resolve("copy.db")); // beside the database: not configured
        refusedOutside(channel, Path.of(backups + "/../copy.db"));
        refusedOutside(channel, backups.resolve("out").resolve("copy.db")); // a link that leads out
        Files.createSymbolicLink(backups.resolve("dangling.db"), outside.resolve("through-link.db"));
        assertThatThrownBy(() -> admin(channel).backup(BackupRequest.newBuilder()
            .setPath(backups.resolve("dangling.db").toString()).build()))
            .satisfies(e -> assertThat(Rpc.code(e)).isEqualTo(Status.Code.ALREADY_EXISTS));
        try (var written = Files.list(outside)) {
          assertThat(written).isEmpty();
        }
        Path inside = Files.createDirectories(backups.resolve("daily")).resolve("copy.db");
        var response = admin(channel).backup(BackupRequest.newBuilder().setPath(inside.toString()).build());
        assertThat(response.getBytes()).isPositive().isEqualTo(Files.size(inside));
      } finally {
        Rpc.close(channel);
      }
    }
  }

  @Test
  void theMemoryBackendHasNoBackup() throws Exception {
    try (ServerProcess memory = ServerProcess.launch(List.of(), Rpc.FAST_START_JVM,
        List.of("--database-enabled", "false"), null, java.util.Map.of())) {
      ManagedChannel channel = Rpc.channel(memory.target());
      try {
        assertThatThrownBy(() -> admin(channel).backup(BackupRequest.newBuilder()
            .setPath(dir.resolve("x.db").toString()).build()))
            .satisfies(e -> {
              assertThat(Rpc.code(e)).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(Rpc.errorInfo(e).orElseThrow().getReason()).isEqualTo("BACKUP_NOT_SUPPORTED");
            });
      } finally {
        Rpc.close(channel);
      }
    }
  }

  @Test
  void aStoreLargerThanTheServersHeapExports() throws Exception {
    // 96 conversations of 1 MiB each in SQLite; the server has a 64 MiB heap.
    List<String> jvm = new ArrayList<>(Rpc.FAST_START_JVM);
    jvm.add("-Xmx64m");
    try (ServerProcess sqlite = ServerProcess.launch(List.of(), jvm,
        List.of("--database-path", dir.resolve("large.db").toString()), null, java.util.Map.of())) {
      ManagedChannel channel = Rpc.channel(sqlite.target());
      try {
        String filler = "x".repeat(64 * 1024 - 20);
        for (int c = 0; c < 96; c++) {
          SaveRequest.Builder save = SaveRequest.newBuilder().setThreadId(String.format("large-%03d", c));
          for (int m = 0; m < 16; m++) {
            save.addMessages(Message.newBuilder().setJson("{\"m\":" + m + ",\"f\":\"" + filler + "\"}"));
          }
          Rpc.stub(channel).save(save.build());
        }
        long bytes = 0;
        int count = 0;
        Iterator<ExportResponse> it = admin(channel).export(ExportRequest.getDefaultInstance());
        while (it.hasNext()) {
          ConversationRecord r = it.next().getConversation();
          assertThat(r.getThreadId()).isEqualTo(String.format("large-%03d", count));
          assertThat(r.getMessagesCount()).isEqualTo(16);
          bytes += r.getSerializedSize();
          count++;
        }
        assertThat(count).isEqualTo(96);
        assertThat(bytes).isGreaterThan(96L << 20);
        assertThat(sqlite.isAlive()).isTrue();
      } finally {
        Rpc.close(channel);
      }
    }
  }

  @Test
  void aSaveRacingAnExportIsWhollyInTheRecordOrNot() throws Exception {
    try (ServerProcess sqlite = Rpc.startSqlite(dir.resolve("race.db"))) {
      ManagedChannel channel = Rpc.channel(sqlite.target());
      try {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        // Each Save rewrites the whole history with messages all tagged with its generation, and the metadata too.
        Thread writer = new Thread(() -> {
          for (int g = 0; !stop.get(); g++) {
            SaveRequest.Builder save = SaveRequest.newBuilder().setThreadId("raced").putMetadata("g", "" + g);
            for (int m = 0; m < 50 + g % 50; m++) {
              save.addMessages(Message.newBuilder().setJson("{\"g\":" + g + ",\"m\":" + m + "}"));
            }
            Rpc.stub(channel).save(save.build());
          }
        });
        Rpc.stub(channel).save(SaveRequest.newBuilder().setThreadId("raced").putMetadata("g", "-1")
            .addMessages(Message.newBuilder().setJson("{\"g\":-1,\"m\":0}")).build());
        writer.start();
        java.util.Set<String> generations = new java.util.HashSet<>();
        try {
          for (int i = 0; i < 30; i++) {
            for (ConversationRecord r : export(channel, ExportRequest.getDefaultInstance())) {
              String g = r.getMetadataOrThrow("g");
              generations.add(g);
              int expected = g.equals("-1") ? 1 : 50 + Integer.parseInt(g) % 50;
              assertThat(r.getMessagesCount()).isEqualTo(expected);
              for (Message m : r.getMessagesList()) {
                assertThat(m.getJson()).startsWith("{\"g\":" + g + ",");
              }
            }
          }
        } finally {
          stop.set(true);
          writer.join();
        }
        // The exports did see the history change under them.
        assertThat(generations.size()).isGreaterThan(1);
      } finally {
        Rpc.close(channel);
      }
    }
  }

  /** Waits until the writers have acknowledged {@code count} writes; fails if they all stopped first. */
  private static void awaitCount(java.util.Queue<String> acknowledged, int count, List<Thread> writers)
      throws InterruptedException {
    while (acknowledged.size() < count) {
      assertThat(writers.stream().anyMatch(Thread::isAlive)).as("writers running").isTrue();
      writers.get(0).join(10); // a bounded wait on a writer, not a sleep: returns as soon as it ends
    }
  }

  @Test
  void aBackupUnderWriteLoadHoldsEveryWriteAcknowledgedBeforeItBegan() throws Exception {
    Path backup = dir.resolve("loaded-backup.db");
    java.util.List<String> acknowledgedBefore;
    try (ServerProcess sqlite = Rpc.startSqlite(dir.resolve("loaded.db"))) {
      ManagedChannel channel = Rpc.channel(sqlite.target());
      try {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.Queue<String> acknowledged = new java.util.concurrent.ConcurrentLinkedQueue<>();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
          int writerId = w;
          Thread t = new Thread(() -> {
            for (int i = 0; !stop.get(); i++) {
              String id = "w" + writerId + "-" + i;
              Rpc.stub(channel).append(AppendRequest.newBuilder().setThreadId(id)
                  .addMessages(Message.newBuilder().setId("m").setJson("{\"i\":" + i + "}")).build());
              acknowledged.add(id);
            }
          });
          writers.add(t);
          t.start();
        }
        awaitCount(acknowledged, 200, writers);
        acknowledgedBefore = List.copyOf(acknowledged);
        admin(channel).backup(BackupRequest.newBuilder().setPath(backup.toString()).build());
        awaitCount(acknowledged, acknowledgedBefore.size() + 100, writers);
        stop.set(true);
        for (Thread t : writers) {
          t.join();
        }
      } finally {
        Rpc.close(channel);
      }
    }
    try (ServerProcess restored = Rpc.startSqlite(backup)) {
      ManagedChannel channel = Rpc.channel(restored.target());
      try {
        java.util.Set<String> stored = new java.util.HashSet<>();
        for (ConversationRecord r : export(channel, ExportRequest.getDefaultInstance())) {
          stored.add(r.getThreadId());
        }
        assertThat(stored).containsAll(acknowledgedBefore);
      } finally {
        Rpc.close(channel);
      }
    }
  }

  @Test
  void aConversationAppendedPastTheMessagesPerRequestLimitStillImports() throws Exception {
    List<ConversationRecord> exported;
    try (ServerProcess source = Rpc.startSqlite(dir.resolve("grown.db"), "--max-messages-per-request", "100")) {
      ManagedChannel channel = Rpc.channel(source.target());
      try {
        for (int turn = 0; turn < 3; turn++) {
          AppendRequest.Builder append = AppendRequest.newBuilder().setThreadId("grown");
          for (int m = 0; m < 60; m++) {
            append.addMessages(Message.newBuilder().setJson("{\"turn\":" + turn + ",\"m\":" + m + "}"));
          }
          Rpc.stub(channel).append(append.build());
        }
        exported = export(channel, ExportRequest.getDefaultInstance());
      } finally {
        Rpc.close(channel);
      }
    }
    assertThat(exported.get(0).getMessagesCount()).isEqualTo(180);
    try (ServerProcess target = Rpc.startSqlite(dir.resolve("grown-copy.db"), "--max-messages-per-request", "100")) {
      ManagedChannel channel = Rpc.channel(target.target());
      try {
        ImportResponse response = importAll(channel, exported,
            ExistingConversationPolicy.EXISTING_CONVERSATION_POLICY_FAIL);
        assertThat(response.getFailuresList()).isEmpty();
        assertThat(response.getImported()).isEqualTo(1);
        assertThat(export(channel, ExportRequest.getDefaultInstance())).isEqualTo(exported);
      } finally {
        Rpc.close(channel);
      }
    }
  }
}
