package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.vmpilot.conversation.cli.VmpilotFiles;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.ListResponse;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real convctl process (cli/target/convctl.jar) against real server processes: every command, the dump's
 * round trip through files, bad dump and VMPilot files refused with nothing stored, both VMPilot layouts, the
 * progress output through a pipe (plain lines) and a terminal (a bar, under script(1)'s pseudo-terminal), and an
 * export that resumes after its server was killed and restarted on the same port.
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

  /** Conversations in the big store: three plain progress lines' worth, about 36 MB of dump. */
  private static final int BIG = 3000;
  /** Records between plain progress lines (Progress.PLAIN_EVERY_COUNT in the cli module). */
  private static final int EVERY = 1000;
  private static final Pattern PROGRESS_LINE =
      Pattern.compile("(exported|imported) \\d+ of \\d+ conversations \\(\\d+\\.\\d/s\\)");
  private static final Pattern DUMP_THREAD = Pattern.compile("^\\{\"threadId\":\"(conv-\\d+)\"");

  /** Saves BIG conversations of ~12 KB each (four messages of 3 KB); their thread ids, sorted. */
  private static List<String> fillBig(ManagedChannel channel) {
    String text = "x".repeat(3000);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < BIG; i++) {
      String id = String.format("conv-%05d", i);
      SaveRequest.Builder save = SaveRequest.newBuilder().setThreadId(id).putMetadata("n", Integer.toString(i));
      for (int m = 0; m < 4; m++) {
        save.addMessages(Message.newBuilder()
            .setJson("{\"role\":\"user\",\"content\":\"" + m + text + "\"}"));
      }
      Rpc.stub(channel).save(save.build());
      ids.add(id);
    }
    return ids;
  }

  /** Every thread id a List of the store returns, page after page. */
  private static List<String> listAll(ManagedChannel channel) {
    List<String> ids = new ArrayList<>();
    String token = "";
    do {
      ListResponse page = Rpc.stub(channel).list(ListRequest.newBuilder().setPageSize(500).setPageToken(token).build());
      page.getConversationsList().forEach(c -> ids.add(c.getThreadId()));
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return ids;
  }

  private static Process startThroughPipes(Path workDir, String target, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of("java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar",
        convctlJar().toAbsolutePath().toString(), "--address", target));
    command.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile());
    pb.environment().remove("CONVCTL_PROGRESS");
    return pb.start(); // stdin, stdout and stderr are pipes
  }

  /** A daemon thread that hands every stderr line of {@code p} to {@code lines}, then "<eof>". */
  private static Thread collectLines(Process p, BlockingQueue<String> lines) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          lines.add(line);
        }
      } catch (IOException e) {
        lines.add("<read failed: " + e + ">");
      }
      lines.add("<eof>");
    }, "convctl-stderr");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static List<String> drain(BlockingQueue<String> queue) throws InterruptedException {
    List<String> lines = new ArrayList<>();
    while (true) {
      String line = queue.poll(2, TimeUnit.MINUTES);
      assertThat(line).as("convctl's stderr ended").isNotNull();
      if (line.equals("<eof>")) {
        return lines;
      }
      lines.add(line);
    }
  }

  /**
   * What is printed through a pipe: at least one plain progress line (counts and rate) before the summary, which is
   * last, and no carriage return or escape sequence anywhere.
   */
  private static void assertPlainProgress(List<String> err, String summary) {
    String all = String.join("\n", err);
    assertThat(all).doesNotContain("\r").doesNotContain("\u001b");
    int firstProgress = -1;
    for (int i = 0; i < err.size() && firstProgress < 0; i++) {
      if (PROGRESS_LINE.matcher(err.get(i)).matches()) {
        firstProgress = i;
      }
    }
    int summaryAt = -1;
    for (int i = 0; i < err.size(); i++) {
      if (err.get(i).contains(summary)) {
        summaryAt = i;
      }
    }
    assertThat(firstProgress).as("a progress line in %s", err).isNotNegative();
    assertThat(summaryAt).as("the summary in %s", err).isGreaterThan(firstProgress).isEqualTo(err.size() - 1);
  }

  /**
   * A dropped export resumes against a real server: convctl exports through pipes from a SQLite server that is
   * SIGKILLed mid-export and restarted on the same file and port; convctl resumes after the last thread id it wrote
   * and the dump holds every conversation of the store exactly once, in order.
   *
   * <p>The kill lands mid-export without sleeps: the test stops reading convctl's stdout once it has the header and
   * the first EVERY records and convctl has printed its first progress line, so convctl soon blocks on the full pipe
   * and cannot take more than the transport's buffers (a few MB: HTTP/2 flow control stops the server) of the 24 MB
   * still to come; the server is killed while it still has records to send. Reading resumes after the restart.
   */
  @Test
  void aDroppedExportResumesFromTheRestartedServerWithEveryConversationOnce() throws Exception {
    Path db = dir.resolve("big.db");
    // normal durability: an acknowledged write survives a server crash, which is all this test does to it.
    ServerProcess big = Rpc.startSqlite(db, "--database-durability", "normal");
    try {
      List<String> stored;
      ManagedChannel bigChannel = Rpc.channel(big.target());
      try {
        fillBig(bigChannel);
        stored = listAll(bigChannel);
      } finally {
        Rpc.close(bigChannel);
      }
      assertThat(stored).hasSize(BIG);

      Process convctl = startThroughPipes(dir, big.target(), "export", "-");
      convctl.getOutputStream().close();
      BlockingQueue<String> errLines = new LinkedBlockingQueue<>();
      collectLines(convctl, errLines);
      Path dump = dir.resolve("piped.jsonl");
      CountDownLatch paused = new CountDownLatch(1);
      CountDownLatch resume = new CountDownLatch(1);
      Thread stdout = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(
                new InputStreamReader(convctl.getInputStream(), StandardCharsets.UTF_8));
            Writer w = Files.newBufferedWriter(dump, StandardCharsets.UTF_8)) {
          int n = 0;
          for (String line; (line = r.readLine()) != null; ) {
            w.write(line);
            w.write('\n');
            if (++n == 1 + EVERY) { // the header and EVERY records: convctl has passed its first progress step
              paused.countDown();
              resume.await();
            }
          }
        } catch (IOException | InterruptedException e) {
          throw new IllegalStateException(e);
        }
      }, "convctl-stdout");
      stdout.setDaemon(true);
      stdout.start();

      assertThat(paused.await(2, TimeUnit.MINUTES)).as("convctl wrote %d records", EVERY).isTrue();
      List<String> before = new ArrayList<>();
      while (before.isEmpty() || !PROGRESS_LINE.matcher(before.get(before.size() - 1)).matches()) {
        String line = errLines.poll(2, TimeUnit.MINUTES);
        assertThat(line).as("convctl's first progress line (so far: %s)", before).isNotNull().isNotEqualTo("<eof>");
        before.add(line);
      }
      assertThat(before.get(before.size() - 1)).startsWith("exported " + EVERY + " of " + BIG + " conversations");

      int port = big.port();
      big.kill();
      big = Rpc.startSqlite(db, "--database-durability", "normal", "--port", Integer.toString(port));
      resume.countDown();

      assertThat(convctl.waitFor(2, TimeUnit.MINUTES)).as("convctl export finished").isTrue();
      stdout.join(TimeUnit.MINUTES.toMillis(1));
      List<String> err = new ArrayList<>(before);
      err.addAll(drain(errLines));
      System.out.println("$ convctl export - (server killed mid-export) -> " + convctl.exitValue() + "\n"
          + String.join("\n", err));
      assertThat(convctl.exitValue()).isZero();
      assertThat(err).anyMatch(l -> l.matches("convctl export: the stream dropped after \\d+ conversations .*; resuming"));
      assertPlainProgress(err, "exported " + BIG + " conversations");

      List<String> lines = Files.readAllLines(dump, StandardCharsets.UTF_8);
      List<String> exported = new ArrayList<>();
      for (String line : lines.subList(1, lines.size() - 1)) {
        Matcher m = DUMP_THREAD.matcher(line);
        assertThat(m.find()).as("a record line: %.80s", line).isTrue();
        exported.add(m.group(1));
      }
      assertThat(exported).isEqualTo(stored.stream().sorted().toList());
      assertThat(lines.get(lines.size() - 1)).isEqualTo("{\"end\":{\"conversations\":" + BIG + "}}");

      // The same dump (and a VMPilot database as big) imported through pipes: plain progress lines too.
      Path vmpilot = dir.resolve("big-vmpilot.db");
      try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + vmpilot)) {
        c.setAutoCommit(false);
        c.createStatement().execute("CREATE TABLE chats (chat_id TEXT PRIMARY KEY, initial_request TEXT,"
            + " project_root TEXT, messages TEXT NOT NULL, cache_info TEXT NOT NULL, updated_at TIMESTAMP)");
        try (var ins = c.prepareStatement("INSERT INTO chats VALUES (?, 'hi', '/src', ?, '{}', '2024-06-01 12:00:00')")) {
          for (int i = 0; i < EVERY + 1; i++) {
            ins.setString(1, "chat-" + i);
            ins.setString(2, "[{\"role\": \"user\", \"content\": \"hello " + i + "\"}]");
            ins.addBatch();
          }
          ins.executeBatch();
        }
        c.commit();
      }
      try (ServerProcess memory = ServerProcess.launch(List.of(), Rpc.FAST_START_JVM,
          List.of("--database-enabled", "false"), null, Map.of())) {
        assertPlainProgress(pipedToEnd(memory.target(), "import", dump.toString()),
            "imported " + BIG + ", replaced 0, skipped 0");
        assertPlainProgress(pipedToEnd(memory.target(), "import-vmpilot", vmpilot.toString()),
            "imported " + (EVERY + 1) + ", replaced 0, skipped 0");
      }
    } finally {
      big.close();
    }
  }

  /** Runs convctl through pipes to its end; asserts exit 0 and returns its stderr lines. */
  private List<String> pipedToEnd(String target, String... args) throws Exception {
    Process p = startThroughPipes(dir, target, args);
    p.getOutputStream().close();
    BlockingQueue<String> errLines = new LinkedBlockingQueue<>();
    collectLines(p, errLines);
    p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
    List<String> err = drain(errLines);
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    System.out.println("$ convctl " + String.join(" ", args) + " -> " + p.exitValue() + "\n" + String.join("\n", err));
    assertThat(p.exitValue()).isZero();
    return err;
  }
}
