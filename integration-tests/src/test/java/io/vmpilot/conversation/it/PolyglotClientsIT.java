package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.ConversationSummary;
import io.vmpilot.conversation.v1.Message;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract used from outside Java with the real tools: grpcurl (through reflection and from the .proto
 * files), buf, ghz, and clients whose stubs Python, Go and Node generate from proto/ with their own tooling, all
 * against the real server process. The tools are the pinned ones {@code scripts/install-tools} puts in .tools/.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PolyglotClientsIT {
  private static final String POLYGLOT = "integration-tests/polyglot/";

  private ServerProcess server;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    assertThat(ExternalCommand.repoRoot().resolve(".tools/bin/grpcurl"))
        .as("the pinned tools; run scripts/install-tools").exists();
    server = ServerProcess.startSqlite(dir.resolve("polyglot.db"));
  }

  @AfterAll
  void stop() throws Exception {
    server.close();
  }

  @Test
  void grpcurlCallsEveryRpcThroughReflectionAndFromTheProtoFiles() throws Exception {
    ExternalCommand r = ExternalCommand.run(5, POLYGLOT + "grpcurl/calls.sh", server.target());
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output())
        .contains("vmpilot.conversation.v1.ConversationService")
        .contains("google.rpc.ErrorInfo")
        .contains("VERSION_MISMATCH")
        .doesNotContain("not recognized");
  }

  @Test
  void bufLintAndBreakingChangeCheckPass() throws Exception {
    ExternalCommand r = ExternalCommand.run(5, "scripts/buf-check");
    assertThat(r.exitCode()).as(r.output()).isZero();
  }

  @Test
  void pythonClient() throws Exception {
    ExternalCommand r = ExternalCommand.run(5, POLYGLOT + "python/run.sh", "client.py", server.target());
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("VERSION_MISMATCH");
  }

  @Test
  void goClient() throws Exception {
    ExternalCommand r = ExternalCommand.run(8, POLYGLOT + "go/run.sh", server.target());
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("VERSION_MISMATCH");
  }

  /**
   * grpc-go and grpc-js with the retry policy the README gives (UNAVAILABLE and RESOURCE_EXHAUSTED), one after the
   * other against a server of their own with a 4 MiB in-flight budget: a Get refused while a stalled raw HTTP/2
   * reader holds the budget is retried after the server's delay and served once the reader is gone; an Append over
   * the history limit, whose refusal carries a pushback of -1, is answered after one attempt.
   */
  @Test
  void goAndNodeRetriesWaitOutABusyServerButNotALimit(@TempDir Path dir) throws Exception {
    try (ServerProcess small = Rpc.startSqlite(dir.resolve("retry.db"), "--max-in-flight-bytes",
        Integer.toString(4 << 20), "--max-history-bytes", "4000000", "--metrics-enabled", "true",
        "--metrics-port", "0")) {
      for (String client : List.of("go/run.sh", "node/run.sh")) {
        ExternalCommand r = ExternalCommand.run(8, POLYGLOT + client, "retry", small.target(), small.metricsUrl());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).as(client).contains("busy ok: the Get was served after")
            .contains("limit ok: HISTORY_TOO_LARGE after 1 attempt(s)");
      }
    }
  }

  @Test
  void nodeClient() throws Exception {
    ExternalCommand r = ExternalCommand.run(5, POLYGLOT + "node/run.sh", server.target());
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("VERSION_MISMATCH");
  }

  /**
   * The Python package (clients/python, installed into .tools/venv from the repository by install-tools): its
   * pytest suite (typed client, asyncio client, TLS and tokens, the VMPilot drop-in with VMPilot's own cases, the
   * LangChain chat history) against servers it starts itself from this build's jar.
   */
  @Test
  void pythonPackageTestsPass() throws Exception {
    ExternalCommand r = ExternalCommand.run(10, "clients/python/run-tests",
        "--server-jar", ServerProcess.serverJar().toAbsolutePath().toString(),
        "--java", Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-q", "-rfEs");
    assertThat(r.exitCode()).as(r.output()).isZero();
    // Only passes (warnings allowed): a skip, failure or error changes pytest's summary line.
    assertThat(r.output()).as(r.output()).containsPattern("(?m)^\\d+ passed(, \\d+ warnings?)? in ");
  }

  /**
   * The README's ghz command, as it stands, for 2 s: every call answered OK, and every one stored its two
   * messages, each worker on a conversation of its own.
   */
  @Test
  void ghzRunsTheReadmesAppendLoadAndEveryAcknowledgedAppendIsStored() throws Exception {
    ExternalCommand r = ExternalCommand.run(3, POLYGLOT + "ghz/readme-append.sh", server.target(), "2s");
    assertThat(r.exitCode()).as(r.output()).isZero();
    long calls = ghzFigure(r.output(), "Count:\\s+(\\d+)");
    assertThat(calls).as(r.output()).isPositive();
    assertThat(ghzFigure(r.output(), "\\[OK\\]\\s+(\\d+) responses")).as(r.output()).isEqualTo(calls);

    try (ConversationClient client = ConversationClient.connect(server.target())) {
      List<ConversationSummary> ghz = new ArrayList<>();
      client.list().forEach(c -> {
        if (c.getThreadId().startsWith("ghz-")) {
          ghz.add(c);
        }
      });
      assertThat(ghz).as("one conversation per ghz worker (--concurrency 64)").hasSize(64);
      assertThat(ghz.stream().mapToLong(ConversationSummary::getMessageCount).sum()).isEqualTo(2 * calls);

      List<Message> newest = client.getNewest(ghz.get(0).getThreadId(), 2).orElseThrow().getMessagesList();
      JsonObject user = JsonParser.parseString(newest.get(0).getJson()).getAsJsonObject();
      JsonObject assistant = JsonParser.parseString(newest.get(1).getJson()).getAsJsonObject();
      assertThat(user.get("role").getAsString()).isEqualTo("user");
      assertThat(user.get("content").getAsString()).hasSize(2000);
      assertThat(assistant.getAsJsonArray("tool_calls").get(0).getAsJsonObject().get("id").getAsString())
          .isEqualTo("call_" + newest.get(0).getId().substring(1));
    }
  }

  private static long ghzFigure(String output, String regex) {
    Matcher m = Pattern.compile(regex).matcher(output);
    assertThat(m.find()).as("ghz printed %s:%n%s", regex, output).isTrue();
    return Long.parseLong(m.group(1));
  }

  @Test
  void aConversationWrittenFromPythonReadsByteForByteInJavaAndGo(@TempDir Path dir) throws Exception {
    Path fixture = dir.resolve("fixture.json");
    String thread = "cross-language-" + ProcessHandle.current().pid();
    ExternalCommand written = ExternalCommand.run(5, POLYGLOT + "python/run.sh", "write_fixture.py",
        server.target(), thread, fixture.toString());
    assertThat(written.exitCode()).as(written.output()).isZero();

    JsonObject expected = JsonParser.parseString(Files.readString(fixture)).getAsJsonObject();
    var expectedMessages = expected.getAsJsonArray("messages");
    try (ConversationClient client = ConversationClient.connect(server.target())) {
      Conversation c = client.get(thread).orElseThrow();
      assertThat(c.getMessagesCount()).isEqualTo(expectedMessages.size()).isPositive();
      for (int i = 0; i < c.getMessagesCount(); i++) {
        Message m = c.getMessages(i);
        JsonObject e = expectedMessages.get(i).getAsJsonObject();
        assertThat(m.getId()).isEqualTo(e.get("id").getAsString());
        assertThat(m.getJsonBytes().toByteArray()).as("message %d", i)
            .isEqualTo(e.get("json").getAsString().getBytes(StandardCharsets.UTF_8));
      }
    }

    ExternalCommand read = ExternalCommand.run(8, POLYGLOT + "go/run.sh", "read", server.target(), thread,
        fixture.toString());
    assertThat(read.exitCode()).as(read.output()).isZero();
  }
}
