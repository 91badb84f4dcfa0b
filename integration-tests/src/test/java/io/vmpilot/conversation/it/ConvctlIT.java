package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.vmpilot.conversation.cli.VmpilotFiles;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.Message;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real convctl process (cli/target/convctl.jar) against real server processes: every command, the dump's
 * round trip through files, bad dump and VMPilot files refused with nothing stored, both VMPilot layouts, and the
 * progress output through a pipe (plain lines) and a terminal (a bar, under script(1)'s pseudo-terminal).
 */
class ConvctlIT {
  @TempDir
  Path dir;

  private ServerProcess server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws IOException {
    server = Rpc.startSqlite(dir.resolve("store.db"));
    channel = Rpc.channel(server.target());
  }

  @AfterEach
  void stop() throws InterruptedException {
    Rpc.close(channel);
    server.close();
  }

  /** What one convctl run did. */
  record Run(int exitCode, String out, String err) {}

  static Path convctlJar() {
    return Path.of(System.getProperty("convctl.jar", "cli/target/convctl.jar"));
  }

  private Run convctl(String target, String... args) throws Exception {
    return convctl(target, Map.of(), args);
  }

  private Run convctl(String target, Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar",
        convctlJar().toString(), "--address", target));
    command.addAll(Arrays.asList(args));
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().remove("CONVCTL_PROGRESS");
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(2, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("convctl " + String.join(" ", args) + " did not finish");
    }
    Run run = new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    System.out.println("$ convctl " + String.join(" ", args) + " -> " + run.exitCode() + "\n" + run.out() + run.err());
    return run;
  }

  private long conversations() {
    return Rpc.stub(channel).list(ListRequest.newBuilder().setPageSize(1000).build()).getConversationsCount();
  }

  private Conversation get(String threadId) {
    return Rpc.stub(channel).get(GetRequest.newBuilder().setThreadId(threadId).build()).getConversation();
  }

  @Test
  void aDumpGoesOutAndComesBackTheSameThroughFiles() throws Exception {
    AdminIT.fill(Rpc.stub(channel));
    Run export = convctl(server.target(), "export", "dump.jsonl");
    assertThat(export.exitCode()).isZero();
    assertThat(export.err()).contains("exported 6 conversations to dump.jsonl").doesNotContain("\r");
    List<String> lines = Files.readAllLines(dir.resolve("dump.jsonl"), StandardCharsets.UTF_8);
    assertThat(lines).hasSize(8);
    assertThat(lines.get(7)).isEqualTo("{\"end\":{\"conversations\":6}}");

    try (ServerProcess memory = ServerProcess.launch(List.of(), Rpc.FAST_START_JVM,
        List.of("--database-enabled", "false"), null, Map.of())) {
      Run first = convctl(memory.target(), "import", "dump.jsonl");
      assertThat(first.exitCode()).isZero();
      assertThat(first.err()).contains("imported 6, replaced 0, skipped 0 (already stored), failed 0");
      Run again = convctl(memory.target(), "import", "dump.jsonl");
      assertThat(again.exitCode()).isZero();
      assertThat(again.err()).contains("imported 0, replaced 0, skipped 6");
      assertThat(convctl(memory.target(), "export", "back.jsonl").exitCode()).isZero();
      List<String> back = Files.readAllLines(dir.resolve("back.jsonl"), StandardCharsets.UTF_8);
      // Byte for byte but the header (which names its source and time).
      assertThat(back.subList(1, back.size())).isEqualTo(lines.subList(1, lines.size()));
    }

    Run toStdout = convctl(server.target(), "export", "-", "--thread", "big");
    assertThat(toStdout.exitCode()).isZero();
    assertThat(toStdout.out().split("\n")).hasSize(3);
  }

  @Test
  void aBadDumpIsRefusedByLineAndStoresNothing() throws Exception {
    AdminIT.fill(Rpc.stub(channel));
    assertThat(convctl(server.target(), "export", "dump.jsonl").exitCode()).isZero();
    List<String> lines = Files.readAllLines(dir.resolve("dump.jsonl"), StandardCharsets.UTF_8);
    try (ServerProcess empty = Rpc.startSqlite(dir.resolve("empty.db"))) {
      ManagedChannel other = Rpc.channel(empty.target());
      try {
        Files.write(dir.resolve("cut.jsonl"), lines.subList(0, 5));
        Run cut = convctl(empty.target(), "import", "cut.jsonl");
        assertThat(cut.exitCode()).isEqualTo(6);
        assertThat(cut.err()).contains("cut.jsonl: line 6 is missing: the dump has no end line")
            .contains("nothing was imported");

        Files.writeString(dir.resolve("torn.jsonl"), String.join("\n", lines).substring(0, 3000));
        Run torn = convctl(empty.target(), "import", "torn.jsonl");
        assertThat(torn.exitCode()).isEqualTo(6);
        assertThat(torn.err()).containsPattern("line \\d+ is not valid JSON");

        List<String> v2 = new ArrayList<>(lines);
        v2.set(0, lines.get(0).replace("\"version\":1", "\"version\":2"));
        Files.write(dir.resolve("v2.jsonl"), v2);
        Run wrongVersion = convctl(empty.target(), "import", "v2.jsonl");
        assertThat(wrongVersion.exitCode()).isEqualTo(6);
        assertThat(wrongVersion.err()).contains("line 1 is format version 2");

        List<String> invalid = List.of(lines.get(0),
            "{\"threadId\":\"bad\",\"messages\":[{\"json\":\"{\\\"a\\\":1}\"},{\"json\":\"not json\"}]}",
            "{\"threadId\":\"good\",\"messages\":[{\"json\":\"{\\\"a\\\":1}\"}]}",
            "{\"end\":{\"conversations\":2}}");
        Files.write(dir.resolve("invalid.jsonl"), invalid);
        Run bad = convctl(empty.target(), "import", "invalid.jsonl");
        assertThat(bad.exitCode()).isEqualTo(6);
        assertThat(bad.err()).contains("invalid.jsonl: line 2 (thread bad): INVALID_ARGUMENT")
            .contains("imported 1, replaced 0, skipped 0 (already stored), failed 1");
        var listed = Rpc.stub(other).list(ListRequest.getDefaultInstance()).getConversationsList();
        assertThat(listed).extracting(s -> s.getThreadId()).containsExactly("good");
      } finally {
        Rpc.close(other);
      }
    }
  }

  @Test
  void importVmpilotReadsBothLayoutsExactly() throws Exception {
    Path early = dir.resolve("early.db");
    Path merged = dir.resolve("merged.db");
    VmpilotFiles.early(early);
    VmpilotFiles.merged(merged);

    Run fromEarly = convctl(server.target(), "import-vmpilot", early.toString());
    assertThat(fromEarly.exitCode()).isZero();
    assertThat(fromEarly.err()).contains("early layout, 3 chats").contains("imported 3");
    Conversation a = get("a");
    assertThat(a.getMessagesList()).extracting(Message::getJson).containsExactly(VmpilotFiles.SYSTEM,
        VmpilotFiles.USER_BLOCKS, VmpilotFiles.TOOL_CALL, VmpilotFiles.TOOL_RESULT, VmpilotFiles.BIG);
    assertThat(a.getCacheInfoMap()).containsEntry("cache_read_input_tokens", 9007199254740993L);
    assertThat(a.getMetadataMap()).containsEntry("project_root", "/src/app").containsEntry("current_issue", "issue 7");
    assertThat(get("b").getMessagesList()).extracting(Message::getJson)
        .containsExactly(VmpilotFiles.LANGCHAIN_HUMAN, VmpilotFiles.LANGCHAIN_AI);

    Run fromMerged = convctl(server.target(), "import-vmpilot", merged.toString());
    assertThat(fromMerged.exitCode()).isZero();
    assertThat(fromMerged.err()).contains("merged layout, 2 chats");
    assertThat(get("x").getMessagesCount()).isEqualTo(5);
    assertThat(get("x").getMessages(4).getJson()).isEqualTo(VmpilotFiles.BIG);
    assertThat(get("x").getMetadataMap()).containsEntry("initial_request", "add tests");

    Run twice = convctl(server.target(), "import-vmpilot", merged.toString());
    assertThat(twice.err()).contains("skipped 2");

    Path broken = dir.resolve("broken.db");
    VmpilotFiles.merged(broken);
    try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + broken)) {
      c.createStatement().execute("UPDATE chats SET chat_id = 'z' WHERE chat_id = 'y'");
      c.createStatement().execute("UPDATE chats SET messages = '[{\"role\": \"user\"}' WHERE chat_id = 'z'");
      c.createStatement().execute("UPDATE chats SET chat_id = 'w' WHERE chat_id = 'x'");
    }
    Run bad = convctl(server.target(), "import-vmpilot", broken.toString());
    assertThat(bad.exitCode()).isEqualTo(6);
    assertThat(bad.err()).contains("chat z");
    // Checked whole before anything is sent: the good chat "w" is not stored either.
    assertThatNotFound("w");
    assertThat(convctl(server.target(), "import-vmpilot", dir.resolve("none.db").toString()).exitCode())
        .isEqualTo(6);
  }

  private void assertThatNotFound(String threadId) {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> get(threadId))
        .satisfies(e -> assertThat(Rpc.code(e)).isEqualTo(io.grpc.Status.Code.NOT_FOUND));
  }

  @Test
  void listShowDeleteStatusAndBackup() throws Exception {
    AdminIT.fill(Rpc.stub(channel));
    Run table = convctl(server.target(), "list");
    assertThat(table.exitCode()).isZero();
    assertThat(table.out().split("\n")).hasSize(7).anyMatch(l -> l.startsWith("big "));
    Run json = convctl(server.target(), "list", "-o", "json", "--filter", "project_root=/src/p1");
    assertThat(json.out().split("\n")).hasSize(2).allMatch(l -> l.contains("\"project_root\":\"/src/p1\""));

    Run show = convctl(server.target(), "show", "thread-0-ünï/🚀");
    assertThat(show.exitCode()).isZero();
    assertThat(show.out()).contains("#2 assistant").contains("tool call shell (call_1):")
        .contains("\"command\": \"ls -la\"").contains("input_tokens=9223372036854775807")
        .contains("#3 tool  id=id-3  tool_call_id=call_1");
    Run showJson = convctl(server.target(), "show", "big", "-o", "json");
    assertThat(showJson.out()).contains("\"json\": \"{\\\"role\\\":\\\"user\\\",\\\"n\\\":9999}\"");
    assertThat(convctl(server.target(), "show", "missing").exitCode()).isEqualTo(3);

    Run delete = convctl(server.target(), "delete", "big", "missing");
    assertThat(delete.exitCode()).isEqualTo(3);
    assertThat(delete.out()).contains("deleted big");
    assertThat(conversations()).isEqualTo(5);

    Run status = convctl(server.target(), "status");
    assertThat(status.exitCode()).isZero();
    assertThat(status.out()).contains("backend:        sqlite").contains("conversations:  5")
        .contains("durability:     full");

    Run backup = convctl(server.target(), "backup", "copy.db");
    assertThat(backup.exitCode()).isZero();
    assertThat(dir.resolve("copy.db")).exists();
    assertThat(convctl(server.target(), "backup", "copy.db").exitCode()).isEqualTo(4);

    assertThat(convctl("127.0.0.1:1", "status").exitCode()).isEqualTo(5);
    Run help = convctl(server.target(), "--help");
    assertThat(help.out()).contains("import-vmpilot").contains("Exit codes");
  }

  @Test
  void theLauncherScriptRunsConvctl() throws Exception {
    ExternalCommand help = ExternalCommand.run(10, "scripts/convctl", "--help");
    assertThat(help.exitCode()).isZero();
    assertThat(help.output()).contains("Usage: convctl").contains("import-vmpilot").contains("Exit codes");
    ExternalCommand status = ExternalCommand.run(10, "scripts/convctl", "--address", server.target(), "status");
    assertThat(status.exitCode()).isZero();
    assertThat(status.output()).contains("backend:        sqlite");
  }

  /** Runs convctl under script(1), which gives it a pseudo-terminal for stdin, stdout and stderr; the transcript. */
  private String onATerminal(String target, String... args) throws Exception {
    String command = String.join(" ", "java", "-XX:TieredStopAtLevel=1", "-jar",
        convctlJar().toAbsolutePath().toString(), "--address", target, String.join(" ", args));
    Path transcript = Files.createTempFile(dir, "transcript", ".txt");
    Process p = new ProcessBuilder("script", "-qec", command, transcript.toString()).directory(dir.toFile())
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    String tty = Files.readString(transcript);
    System.out.println("$ [tty] convctl " + String.join(" ", args) + " -> " + p.exitValue() + "\n" + tty);
    assertThat(p.exitValue()).isZero();
    return tty;
  }

  @Test
  void progressIsABarOnATerminalAndPlainLinesThroughAPipe() throws Exception {
    AdminIT.fill(Rpc.stub(channel));
    String tty = onATerminal(server.target(), "export", dir.resolve("tty.jsonl").toString());
    assertThat(tty).contains("\r[##############################] 100% exported 6/6 conversations");
    assertThat(tty).contains("exported 6 conversations to ");
    try (ServerProcess memory = ServerProcess.launch(List.of(), Rpc.FAST_START_JVM,
        List.of("--database-enabled", "false"), null, Map.of())) {
      assertThat(onATerminal(memory.target(), "import", dir.resolve("tty.jsonl").toString()))
          .contains("\r[##############################] 100% imported 6/6 conversations")
          .contains("imported 6, replaced 0, skipped 0");
      Path vmpilot = dir.resolve("tty-vmpilot.db");
      VmpilotFiles.merged(vmpilot);
      assertThat(onATerminal(memory.target(), "import-vmpilot", vmpilot.toString()))
          .contains("\r[##############################] 100% imported 2/2 conversations");
    }

    Run piped = convctl(server.target(), "export", "piped.jsonl");
    assertThat(piped.err()).doesNotContain("\r").doesNotContain("[#");
  }
}
