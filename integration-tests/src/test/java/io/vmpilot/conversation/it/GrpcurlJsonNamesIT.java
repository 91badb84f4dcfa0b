package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * grpcurl prints the same JSON whether it learns the contract through server reflection or from the .proto files
 * ({@code -proto}): the proto3 JSON names ({@code threadId}, {@code cacheInfo}), as every other client does. Before
 * reflection served descriptors with {@code json_name}, the reflected output said {@code thread_id}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GrpcurlJsonNamesIT {
  private static final String SERVICE = "vmpilot.conversation.v1.ConversationService/";
  private static final List<String> FROM_PROTO = List.of("-import-path", "proto", "-import-path",
      "third_party/googleapis", "-proto", "vmpilot/conversation/v1/conversation_service.proto");

  private ServerProcess server;
  private String grpcurl;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    grpcurl = ExternalCommand.repoRoot().resolve(".tools/bin/grpcurl").toString();
    assertThat(Path.of(grpcurl)).as("the pinned tools; run scripts/install-tools").exists();
    server = ServerProcess.startSqlite(dir.resolve("json-names.db"));
  }

  @AfterAll
  void stop() throws Exception {
    server.close();
  }

  @Test
  void saveGetAndListPrintTheSameThroughReflectionAndFromTheProtoFiles() throws Exception {
    String viaReflection = call(false, "Save", save("json-names-reflection"));
    String viaProto = call(true, "Save", save("json-names-proto"));
    // Versions come from the tenant's counter, so the two Saves get different ones; all else is equal.
    assertThat(maskVersion(viaReflection)).isEqualTo(maskVersion(viaProto));
    assertThat(viaReflection).contains("\"messageCount\": \"2\"").doesNotContain("message_count");

    String get = "{\"thread_id\": \"json-names-reflection\"}";
    String gotViaReflection = call(false, "Get", get);
    assertThat(gotViaReflection).isEqualTo(call(true, "Get", get));
    assertThat(gotViaReflection)
        .contains("\"threadId\": \"json-names-reflection\"", "\"cacheInfo\": {", "\"createTime\": \"",
            "\"messageCount\": \"2\"", "\"historyBytes\": \"")
        .doesNotContain("\"thread_id\"", "\"cache_info\"", "\"create_time\"");

    String list = "{\"metadata_filter\": {\"run\": \"json-names-reflection\"}, \"page_size\": 5}";
    String listedViaReflection = call(false, "List", list);
    assertThat(listedViaReflection).isEqualTo(call(true, "List", list));
    assertThat(listedViaReflection)
        .contains("\"threadId\": \"json-names-reflection\"", "\"cacheInfo\": {", "\"updateTime\": \"")
        .doesNotContain("\"thread_id\"", "\"cache_info\"");
  }

  private static String save(String threadId) {
    return "{\"thread_id\": \"" + threadId + "\", \"messages\": [{\"json\": \"{\\\"role\\\":\\\"user\\\"}\"},"
        + " {\"id\": \"m2\", \"json\": \"{\\\"role\\\":\\\"assistant\\\"}\"}],"
        + " \"cache_info\": {\"input_tokens\": 10}, \"metadata\": {\"run\": \"" + threadId + "\"}}";
  }

  private String call(boolean fromProto, String rpc, String request) throws Exception {
    List<String> command = new ArrayList<>(List.of(grpcurl, "-plaintext"));
    if (fromProto) {
      command.addAll(FROM_PROTO);
    }
    command.addAll(List.of("-d", request, server.target(), SERVICE + rpc));
    ExternalCommand r = ExternalCommand.run(2, command.toArray(String[]::new));
    assertThat(r.exitCode()).as(r.output()).isZero();
    return r.output();
  }

  private static String maskVersion(String output) {
    return output.replaceAll("\"version\": \"\\d+\"", "\"version\": \"N\"");
  }
}
