package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationStoreException;
import io.vmpilot.conversation.client.VersionConflictException;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.AppendResponse;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.ConversationSummary;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.ListResponse;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.SaveResponse;
import io.vmpilot.conversation.v1.UpdateCacheRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every RPC against the real server process over a real socket, and what survives a restart. */
class ConversationServerIT {
  @TempDir
  Path dir;

  @Test
  void everyRpcThroughTheClientSurvivesARestartByteForByte() throws Exception {
    Path db = dir.resolve("conversations.db");
    Conversation before;
    try (ServerProcess server = ServerProcess.startSqlite(db);
        ConversationClient client = ConversationClient.connect(server.target())) {
      assertThat(server.output()).contains("backend=sqlite").contains(db.toString()).contains("durability=full");

      SaveResponse saved = client.save(SaveRequest.newBuilder()
          .setThreadId("agent/thread ✓ 1")
          .addAllMessages(TrickyMessages.ALL.stream().map(ConversationClient::message).toList())
          .putCacheInfo("input_tokens", 10)
          .putCacheInfo("cache_read_input_tokens", 9_007_199_254_740_993L)
          .putMetadata("project_root", "/src/app")
          .putMetadata("initial_request", "fix the build")
          .build());
      assertThat(saved.getCreated()).isTrue();
      assertThat(saved.getMessageCount()).isEqualTo(TrickyMessages.ALL.size());

      AppendResponse appended = client.append(AppendRequest.newBuilder().setThreadId("agent/thread ✓ 1")
          .addMessages(ConversationClient.message("turn-8-user", "{\"role\":\"user\",\"content\":\"again\"}"))
          .addMessages(ConversationClient.message("turn-8-assistant", "{\"role\":\"assistant\",\"content\":\"ok\"}"))
          .setExpectedVersion(saved.getVersion())
          .build());
      assertThat(appended.getAppendedCount()).isEqualTo(2);
      assertThat(appended.getVersion()).isGreaterThan(saved.getVersion());

      // A retried append (same ids) stores nothing twice.
      AppendResponse retried = client.append(AppendRequest.newBuilder().setThreadId("agent/thread ✓ 1")
          .addMessages(ConversationClient.message("turn-8-user", "{\"role\":\"user\",\"content\":\"again\"}"))
          .addMessages(ConversationClient.message("turn-8-assistant", "{\"role\":\"assistant\",\"content\":\"ok\"}"))
          .build());
      assertThat(retried.getAppendedCount()).isZero();
      assertThat(retried.getMessageCount()).isEqualTo(TrickyMessages.ALL.size() + 2);

      long cacheVersion = client.updateCache("agent/thread ✓ 1", Map.of("output_tokens", 20L)).getVersion();
      assertThat(cacheVersion).isGreaterThan(appended.getVersion());

      assertThat(client.getNewest("agent/thread ✓ 1", 2).orElseThrow().getMessagesList())
          .extracting(Message::getId).containsExactly("turn-8-user", "turn-8-assistant");

      List<ConversationSummary> listed = list(client.list(Map.of("project_root", "/src/app")));
      assertThat(listed).extracting(ConversationSummary::getThreadId).containsExactly("agent/thread ✓ 1");
      assertThat(list(client.list(Map.of("project_root", "/elsewhere")))).isEmpty();

      before = client.get("agent/thread ✓ 1").orElseThrow();
      assertThat(before.getMessagesList().subList(0, TrickyMessages.ALL.size()))
          .extracting(Message::getJson).containsExactlyElementsOf(TrickyMessages.ALL);
      assertThat(before.getCacheInfoMap()).containsExactly(Map.entry("output_tokens", 20L));
      assertThat(before.getVersion()).isEqualTo(cacheVersion);
      assertThat(server.stop()).as("exit code after SIGTERM").isZero();
      assertThat(server.output()).contains("stopped");
    }

    try (ServerProcess server = ServerProcess.startSqlite(db);
        ConversationClient client = ConversationClient.connect(server.target())) {
      Conversation after = client.get("agent/thread ✓ 1").orElseThrow();
      assertThat(after).isEqualTo(before);
      for (int i = 0; i < TrickyMessages.ALL.size(); i++) {
        assertThat(after.getMessages(i).getJsonBytes().toByteArray())
            .isEqualTo(TrickyMessages.ALL.get(i).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
      assertThat(client.clear("agent/thread ✓ 1")).isTrue();
      assertThat(client.clear("agent/thread ✓ 1")).isFalse();
      assertThat(client.get("agent/thread ✓ 1")).isEmpty();
      assertThat(list(client.list())).isEmpty();

      // Versions never repeat, even for a thread cleared and created again after a restart.
      long recreated = client.append("agent/thread ✓ 1", List.of("{\"a\":1}")).getVersion();
      assertThat(recreated).isGreaterThan(before.getVersion());
    }
  }

  @Test
  void everyRpcThroughTheRawStubsWithTheirErrorDetails() throws Exception {
    try (ServerProcess server = ServerProcess.startSqlite(dir.resolve("raw.db"))) {
      ManagedChannel channel = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
      try {
        var stub = ConversationServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        SaveResponse saved = stub.save(SaveRequest.newBuilder().setThreadId("raw")
            .addMessages(Message.newBuilder().setJson("{\"role\":\"user\",\"content\":\"hi\"}")).build());
        AppendResponse appended = stub.append(AppendRequest.newBuilder().setThreadId("raw")
            .addMessages(Message.newBuilder().setId("m2").setJson("{\"role\":\"assistant\",\"content\":\"hello\"}"))
            .build());
        assertThat(appended.getMessageCount()).isEqualTo(2);
        Conversation c = stub.get(GetRequest.newBuilder().setThreadId("raw").setStartPosition(1).build())
            .getConversation();
        assertThat(c.getMessagesList()).extracting(Message::getPosition).containsExactly(1L);
        assertThat(c.getMessageCount()).isEqualTo(2);
        stub.updateCache(UpdateCacheRequest.newBuilder().setThreadId("raw").putCacheInfo("input_tokens", 3)
            .setExpectedVersion(appended.getVersion()).build());
        ListResponse page = stub.list(ListRequest.newBuilder().setPageSize(1).build());
        assertThat(page.getConversationsList()).extracting(ConversationSummary::getThreadId).containsExactly("raw");
        assertThat(page.getNextPageToken()).isEmpty();

        // A stale expected_version: ABORTED with the current version in ErrorInfo.
        assertThatThrownBy(() -> stub.clear(ClearRequest.newBuilder().setThreadId("raw")
            .setExpectedVersion(saved.getVersion()).build()))
            .satisfies(e -> {
              ConversationStoreException mapped = ConversationStoreException.from((io.grpc.StatusRuntimeException) e);
              assertThat(mapped).isInstanceOf(VersionConflictException.class);
              assertThat(mapped.reason()).isEqualTo("VERSION_MISMATCH");
              assertThat(mapped.metadata()).containsEntry("expected_version", Long.toString(saved.getVersion()));
            });
        assertThat(stub.clear(ClearRequest.newBuilder().setThreadId("raw").build()).getDeleted()).isTrue();
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void healthAndBothReflectionVersionsAreServed() throws Exception {
    try (ServerProcess server = ServerProcess.startSqlite(dir.resolve("health.db"))) {
      ManagedChannel channel = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
      try {
        var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
            .isEqualTo(ServingStatus.SERVING);
        assertThat(health.check(HealthCheckRequest.newBuilder()
            .setService(ConversationServiceGrpc.SERVICE_NAME).build()).getStatus()).isEqualTo(ServingStatus.SERVING);

        assertThat(reflectedServices(channel)).contains(ConversationServiceGrpc.SERVICE_NAME, "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void theMemoryBackendServesButForgetsOnRestart() throws Exception {
    try (ServerProcess server = ServerProcess.start(List.of("--database-enabled", "false"));
        ConversationClient client = ConversationClient.connect(server.target())) {
      assertThat(server.output()).contains("backend=memory");
      client.save("m", List.of("{\"a\":1}"));
      assertThat(client.get("m").orElseThrow().getMessages(0).getJson()).isEqualTo("{\"a\":1}");
    }
    try (ServerProcess server = ServerProcess.start(List.of("--database-enabled", "false"));
        ConversationClient client = ConversationClient.connect(server.target())) {
      assertThat(client.get("m")).isEmpty();
    }
  }

  @Test
  void aConfigFileInVmpilotsFormatIsRead() throws Exception {
    Path config = dir.resolve("config.ini");
    Path db = dir.resolve("from-config").resolve("vmpilot.db");
    Files.writeString(config, "[database]\nenabled = true            ; false (the default) = in-memory\npath = "
        + db + "\n\n[server]\nbind = 127.0.0.1\n");
    try (ServerProcess server = ServerProcess.start(List.of("--config", config.toString()));
        ConversationClient client = ConversationClient.connect(server.target())) {
      assertThat(server.output()).contains("database=" + db).contains("config=" + config);
      client.save("c", List.of("{\"a\":1}"));
    }
    assertThat(db).exists();
  }

  @Test
  void badArgumentsAndAMissingConfigFileStopTheServerWithAClearMessage() throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        ServerProcess.serverJar().toString(), "--database-durability", "sometimes").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isEqualTo(2);
    assertThat(out).contains("--database-durability must be 'full' or 'normal'");

    Process q = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        ServerProcess.serverJar().toString(), "--config", dir.resolve("missing.ini").toString())
        .redirectErrorStream(true).start();
    String qout = new String(q.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(q.waitFor()).isEqualTo(2);
    assertThat(qout).contains("cannot read config file");
  }

  private static List<ConversationSummary> list(Iterable<ConversationSummary> summaries) {
    return StreamSupport.stream(summaries.spliterator(), false).toList();
  }

  private static List<String> reflectedServices(ManagedChannel channel) throws Exception {
    CompletableFuture<List<String>> names = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
        .serverReflectionInfo(new StreamObserver<>() {
          final List<String> found = new ArrayList<>();

          @Override
          public void onNext(ServerReflectionResponse r) {
            r.getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName).forEach(found::add);
          }

          @Override
          public void onError(Throwable t) {
            names.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            names.complete(found);
          }
        });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();
    return names.get(10, TimeUnit.SECONDS);
  }
}
