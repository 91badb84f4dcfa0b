package io.vmpilot.conversation.bench;

import com.google.gson.GsonBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.client.ConversationStoreException;
import io.vmpilot.conversation.client.VersionConflictException;
import io.vmpilot.conversation.it.ServerProcess;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.AppendResponse;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.UpdateCacheRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Load generator for the conversation store (issue 4): runs the workloads W1..W5 with C concurrent clients over
 * real sockets, each for a fixed time after a warm-up, and prints a table (also written as JSON).
 *
 * <p>Without {@code --target} it starts the server jar itself, once per backend/durability combination, with a
 * temporary SQLite file and the metrics endpoint on, so that it can read the store's write/sync/byte counters
 * and the server's peak RSS.
 *
 * <p>Every client is one thread with a blocking stub; clients share a few channels (HTTP/2 connections).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 110,
    description = "Benchmarks the conversation store over gRPC (see docs/benchmark.md).")
public final class Benchmark implements Callable<Integer> {

  @Option(names = "--target", paramLabel = "HOST:PORT",
      description = "Benchmark a running server instead of starting one (its backend is then reported as 'target').")
  String target;

  @Option(names = "--metrics-url", paramLabel = "URL",
      description = "With --target: the server's Prometheus endpoint, for writes/sync and bytes/op.")
  String metricsUrl;

  @Option(names = "--server-pid", paramLabel = "PID",
      description = "With --target: the server's process id, for its peak RSS (same machine only).")
  Long serverPid;

  @Option(names = "--duration", defaultValue = "10s", paramLabel = "DURATION",
      description = "Measured time per workload, e.g. 10s, 500ms, 1m. Default: ${DEFAULT-VALUE}.")
  String duration;

  @Option(names = "--warmup", defaultValue = "2s", paramLabel = "DURATION",
      description = "Unmeasured warm-up per workload (JIT, connections). Default: ${DEFAULT-VALUE}.")
  String warmup;

  @Option(names = "--server-warmup", defaultValue = "20s", paramLabel = "DURATION",
      description = "Once per server, before the first workload: W1 turns and W3 reads, in steps of 5 s, for at "
          + "least this long, to get the server's JIT compiler past its start. Default: ${DEFAULT-VALUE}.")
  String serverWarmup;

  @Option(names = "--server-warmup-max", defaultValue = "120s", paramLabel = "DURATION",
      description = "When the server's process id is known (a server the benchmark starts, or --server-pid): go on "
          + "warming up past --server-warmup until the server's JIT compiler threads used less than 5%% of one CPU "
          + "in a step, for at most this long in all. Default: ${DEFAULT-VALUE}.")
  String serverWarmupMax;

  @Option(names = "--clients", defaultValue = "64", paramLabel = "C",
      description = "Concurrent clients (W5 always uses 16). Default: ${DEFAULT-VALUE}.")
  int clients;

  @Option(names = "--channels", defaultValue = "4", paramLabel = "N",
      description = "gRPC channels (TCP connections) the clients share. Default: ${DEFAULT-VALUE}.")
  int channels;

  @Option(names = "--w5-messages-per-conversation", defaultValue = "4000", paramLabel = "N",
      description = "W5 moves on to a new conversation after this many messages (~2 KB each), so that it stays under"
          + " the server's history limit (32 MiB by default). Default: ${DEFAULT-VALUE}.")
  int w5MessagesPerConversation;

  @Option(names = "--workloads", defaultValue = "W1,W2,W3,W4,W5", split = ",", paramLabel = "W",
      description = "Workloads to run, e.g. W1,W4. Default: ${DEFAULT-VALUE}.")
  List<String> workloads;

  @Option(names = "--backends", defaultValue = "memory,sqlite", split = ",", paramLabel = "B",
      description = "Backends to start (ignored with --target). Default: ${DEFAULT-VALUE}.")
  List<String> backends;

  @Option(names = "--durability", defaultValue = "full,normal", split = ",", paramLabel = "D",
      description = "SQLite durability levels (ignored for memory and with --target). Default: ${DEFAULT-VALUE}.")
  List<String> durabilities;

  @Option(names = "--json", defaultValue = "bench-results.json", paramLabel = "PATH",
      description = "Where to write the results as JSON. Default: ${DEFAULT-VALUE}.")
  Path json;

  @Option(names = "--server-jvm-opts", paramLabel = "OPTS",
      defaultValue = "${env:BENCH_SERVER_JVM_OPTS:--Xms256m -Xmx1g -XX:+UseG1GC}",
      description = "JVM options of the server the benchmark starts (same default as scripts/run-server). "
          + "Default: ${DEFAULT-VALUE}.")
  String serverJvmOpts;

  @Option(names = "--max-ops", defaultValue = "5000000", paramLabel = "N",
      description = "Stop a workload's measured phase after this many operations. Default: ${DEFAULT-VALUE}.")
  long maxOps;

  @Option(names = "--message-ids", arity = "1", defaultValue = "true", paramLabel = "BOOLEAN",
      description = "Give each turn's messages a client id, as a client that retries safely does (the server then"
          + " also indexes them). false measures clients that send none, like VMPilot. Default: ${DEFAULT-VALUE}.")
  boolean messageIds;

  @Option(names = "--server-arg", paramLabel = "ARG",
      description = "Extra argument for the server the benchmark starts (repeatable), e.g. --server-arg=--executor-threads=32.")
  List<String> serverArgs = new ArrayList<>();

  @Option(names = "--database-dir", paramLabel = "DIR",
      description = "Where the SQLite servers the benchmark starts keep their file (a new directory in DIR for each,"
          + " deleted afterwards). Default: the system's temporary directory. A RAM file system (/dev/shm) measures"
          + " SQLite without a disk.")
  Path databaseDir;

  @Option(names = "--rounds", defaultValue = "1", paramLabel = "N",
      description = "Run every backend N times, alternating (memory, sqlite, memory, ...), and report each row's"
          + " median round by ops/s (default: ${DEFAULT-VALUE}). On a shared or small machine one run can be 25%%"
          + " off; alternating rounds expose the backends to the same noise.")
  int rounds = 1;

  /** One row of the table: one workload on one backend in one round. */
  record Result(int round, String workload, String backend, String durability, int clients, long ops, double seconds,
      double opsPerSecond, double p50Ms, double p99Ms, double maxMs, Long peakRssKb, Double serverCpuMsPerOp,
      Double writesPerSync,
      Double bytesWrittenPerOp, Double requestBytesPerOp, long retries, long errors, String firstError,
      String note, MachineCpu.Use machine) {
    Result withNote(String newNote) {
      return new Result(round, workload, backend, durability, clients, ops, seconds, opsPerSecond, p50Ms, p99Ms,
          maxMs, peakRssKb, serverCpuMsPerOp, writesPerSync, bytesWrittenPerOp, requestBytesPerOp, retries, errors,
          firstError, newNote, machine);
    }
  }

  private final List<Result> results = new ArrayList<>();
  private int round = 1;
  private final String runId = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);

  public static void main(String[] args) {
    System.exit(new CommandLine(new Benchmark()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Duration measure = parseDuration(duration);
    Duration warm = parseDuration(warmup);
    List<String> selected = workloads.stream().map(w -> w.strip().toUpperCase(Locale.ROOT)).toList();
    for (String w : selected) {
      if (!List.of("W1", "W2", "W3", "W4", "W5").contains(w)) {
        throw new CommandLine.ParameterException(new CommandLine(this), "unknown workload " + w);
      }
    }
    System.out.printf("bench: %s, clients=%d, channels=%d, duration=%s (+%s warm-up) per workload, %s%n",
        String.join(",", selected), clients, channels, duration, warmup,
        target != null ? "target " + target : "server JVM options: " + serverJvmOpts);
    if (rounds < 1) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--rounds must be at least 1");
    }
    for (round = 1; round <= rounds; round++) {
      if (rounds > 1) {
        System.out.printf("%nbench: round %d of %d%n", round, rounds);
      }
      runRound(selected, measure, warm);
    }
    List<Result> medians = Medians.of(results);
    printTable(medians);
    printRatio(medians);
    writeJson(medians);
    return 0;
  }

  /** Every backend (or the target) once. */
  private void runRound(List<String> selected, Duration measure, Duration warm) throws Exception {
    if (target != null) {
      Server server = new Server(target, metricsUrl, serverPid);
      runAll(server, "target", "-", selected, measure, warm);
    } else {
      for (String backend : backends) {
        backend = backend.strip().toLowerCase(Locale.ROOT);
        List<String> levels = backend.equals("memory") ? List.of("-") : durabilities;
        for (String durability : levels) {
          durability = durability.strip().toLowerCase(Locale.ROOT);
          Path dir = databaseDir == null ? Files.createTempDirectory("conversation-bench")
              : Files.createTempDirectory(Files.createDirectories(databaseDir), "conversation-bench");
          List<String> args = new ArrayList<>(List.of("--metrics-enabled", "true", "--metrics-port", "0"));
          switch (backend) {
            case "memory" -> args.addAll(List.of("--database-enabled", "false"));
            case "sqlite" -> args.addAll(List.of("--database-path", dir.resolve("bench.db").toString(),
                "--database-durability", durability));
            default -> throw new CommandLine.ParameterException(new CommandLine(this), "unknown backend " + backend);
          }
          args.addAll(serverArgs);
          List<String> jvm = serverJvmOpts.isBlank() ? List.of() : Arrays.asList(serverJvmOpts.strip().split("\\s+"));
          System.out.printf("%nbench: starting the server: backend=%s durability=%s%s%n", backend, durability,
              backend.equals("sqlite") ? ", database " + dir.resolve("bench.db") : "");
          ServerProcess process = ServerProcess.launch(List.of(), jvm, args, null, Map.of());
          try {
            Server server = new Server(process.target(), process.metricsUrl(), process.pid());
            runAll(server, backend, durability, selected, measure, warm);
          } finally {
            process.close();
            deleteTree(dir);
          }
        }
      }
    }
  }

  // ---- the server under test ------------------------------------------------------------------------------

  /** Where the load goes, and where its counters and memory figures come from. */
  static final class Server {
    final String target;
    final String metricsUrl;
    final Long pid;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    Server(String target, String metricsUrl, Long pid) {
      this.target = target;
      this.metricsUrl = metricsUrl;
      this.pid = pid;
    }

    /** The store's counters (writes, syncs, bytes written), or null without a metrics endpoint. */
    long[] storeCounters() {
      if (metricsUrl == null) {
        return null;
      }
      try {
        String body = http.send(HttpRequest.newBuilder(URI.create(metricsUrl)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        return new long[] {counter(body, "conversation_store_writes_total"),
            counter(body, "conversation_store_syncs_total"), counter(body, "conversation_store_written_bytes_total")};
      } catch (IOException | InterruptedException | RuntimeException e) {
        System.out.println("bench: cannot read the metrics at " + metricsUrl + ": " + e);
        return null;
      }
    }

    private static long counter(String body, String name) {
      Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})?\\s+(\\S+)").matcher(body);
      if (!m.find()) {
        throw new IllegalStateException("metric " + name + " not found");
      }
      return (long) Double.parseDouble(m.group(1));
    }

    /** Resets the kernel's peak-RSS mark of the server (Linux: "5" to /proc/PID/clear_refs). */
    void resetPeakRss() {
      if (pid != null) {
        try {
          Files.writeString(Path.of("/proc", pid.toString(), "clear_refs"), "5");
        } catch (IOException | RuntimeException e) {
          // Not fatal: the peak is then the one since the server started.
        }
      }
    }

    /**
     * CPU time the server process used so far (user + system), in ms, or null when unknown. Per op, this is a
     * steadier figure than ops/s on a machine shared with other work.
     */
    Long cpuMillis() {
      if (pid == null) {
        return null;
      }
      try {
        return ProcStat.cpuMillis(Files.readString(Path.of("/proc", pid.toString(), "stat")));
      } catch (IOException | RuntimeException e) {
        return null;
      }
    }

    /**
     * CPU time the server's JIT compiler threads used so far, in ms, or null when unknown (no process id, not
     * Linux, or a JVM whose compiler threads are named otherwise).
     */
    Long compilerCpuMillis() {
      if (pid == null) {
        return null;
      }
      try (var tasks = Files.list(Path.of("/proc", pid.toString(), "task"))) {
        long total = 0;
        boolean found = false;
        for (Path task : tasks.toList()) {
          try {
            if (Files.readString(task.resolve("comm")).strip().matches("C\\d CompilerThre.*")) {
              total += ProcStat.cpuMillis(Files.readString(task.resolve("stat")));
              found = true;
            }
          } catch (IOException gone) {
            // A thread that ended meanwhile.
          }
        }
        return found ? total : null;
      } catch (IOException | RuntimeException e) {
        return null;
      }
    }

    /** VmHWM of the server in KiB, or null when unknown. */
    Long peakRssKb() {
      if (pid == null) {
        return null;
      }
      try {
        for (String line : Files.readAllLines(Path.of("/proc", pid.toString(), "status"))) {
          if (line.startsWith("VmHWM:")) {
            return Long.parseLong(line.replaceAll("[^0-9]", ""));
          }
        }
      } catch (IOException | RuntimeException e) {
        return null;
      }
      return null;
    }
  }

  // ---- workloads ----------------------------------------------------------------------------------------

  /** A workload: a setup (not timed), then operations by each client; one op is one timed unit. */
  abstract static class Workload {
    final String name;
    final int clients;
    final LongAdder retries = new LongAdder();
    final LongAdder requestBytes = new LongAdder();
    String note = "";

    Workload(String name, int clients) {
      this.name = name;
      this.clients = clients;
    }

    void setup(ConversationServiceBlockingStub stub) {}

    /** One operation of client {@code c}. */
    abstract void op(int c, ConversationServiceBlockingStub stub);

    /** Called after the measured phase, e.g. to describe what was measured. */
    void finish() {}
  }

  private static final int MESSAGE_BYTES = 2048;
  private static final String FILLER;

  static {
    // Deterministic, JSON-safe, not trivially compressible text.
    Random random = new Random(42);
    String[] words = {"the", "agent", "reads", "file", "src/main/App.java", "and", "runs", "tests", "error:",
        "expected", "value", "at", "line", "42", "patch", "applied", "build", "ok", "refactor", "function"};
    StringBuilder sb = new StringBuilder();
    while (sb.length() < 64 * 1024) {
      sb.append(words[random.nextInt(words.length)]).append(' ');
    }
    FILLER = sb.toString();
  }

  /** About {@code bytes} of text, starting at a place that depends on {@code seed}. */
  static String text(long seed, int bytes) {
    int start = (int) Math.floorMod(seed * 7919, FILLER.length() - bytes - 1);
    return FILLER.substring(start, start + bytes);
  }

  /** A ~2 KB user message. */
  static String userMessage(long seed) {
    String head = "{\"role\":\"user\",\"content\":\"";
    return head + text(seed, MESSAGE_BYTES - head.length() - 2) + "\"}";
  }

  /** A ~2 KB assistant message with one tool call. */
  static String assistantMessage(long seed) {
    String head = "{\"role\":\"assistant\",\"content\":\"";
    String call = "\",\"tool_calls\":[{\"id\":\"call_" + seed + "\",\"type\":\"function\",\"function\":"
        + "{\"name\":\"edit_file\",\"arguments\":\"{\\\"path\\\":\\\"src/main/App.java\\\",\\\"patch\\\":\\\"";
    String tail = "\\\"}\"}}]}";
    int room = MESSAGE_BYTES - head.length() - call.length() - tail.length();
    return head + text(seed, room / 2) + call + text(seed + 1, room - room / 2) + tail;
  }

  /** A small (~300 byte) message for pre-filling long histories. */
  static String smallMessage(long seed) {
    String head = "{\"role\":\"tool\",\"content\":\"";
    return head + text(seed, 300 - head.length() - 2) + "\"}";
  }

  static Message msg(String id, String json) {
    return Message.newBuilder().setId(id).setJson(json).build();
  }

  /** The messages of one agent turn: a user message and an assistant message with a tool call. */
  List<Message> turnMessages(String prefix, long turn) {
    return List.of(turnMessage(prefix + "-u" + turn, userMessage(turn * 2)),
        turnMessage(prefix + "-a" + turn, assistantMessage(turn * 2 + 1)));
  }

  private Message turnMessage(String id, String json) {
    return messageIds ? msg(id, json) : Message.newBuilder().setJson(json).build();
  }

  /** W1 (and W4): Append 2 messages + UpdateCache, each client on its own conversation. */
  final class AgentTurn extends Workload {
    final String[] threads;
    final long[] turns;
    final int prefill;

    AgentTurn(String name, int clients, int prefill) {
      super(name, clients);
      this.prefill = prefill;
      this.threads = new String[clients];
      this.turns = new long[clients];
      for (int c = 0; c < clients; c++) {
        threads[c] = runId + "-" + name + "-" + c;
      }
    }

    @Override
    void setup(ConversationServiceBlockingStub stub) {
      if (prefill == 0) {
        return;
      }
      // Big Appends of small messages (pre-fill is not timed); W4's question is whether the number of
      // messages already stored changes a turn's cost.
      int batch = 1000;
      for (int c = 0; c < clients; c++) {
        for (int done = 0; done < prefill; ) {
          int n = Math.min(batch, prefill - done);
          AppendRequest.Builder b = AppendRequest.newBuilder().setThreadId(threads[c]);
          for (int i = 0; i < n; i++) {
            b.addMessages(msg("p" + (done + i), smallMessage(done + i)));
          }
          stub.append(b.build());
          done += n;
        }
        if ((c + 1) % 16 == 0 || c + 1 == clients) {
          System.out.printf("  %s: pre-filled %d of %d conversations with %d messages%n", name, c + 1, clients,
              prefill);
        }
      }
    }

    @Override
    void op(int c, ConversationServiceBlockingStub stub) {
      long turn = turns[c]++;
      AppendRequest append = AppendRequest.newBuilder().setThreadId(threads[c])
          .addAllMessages(turnMessages("t", turn)).build();
      stub.append(append);
      UpdateCacheRequest cache = UpdateCacheRequest.newBuilder().setThreadId(threads[c])
          .putCacheInfo("input_tokens", 1000 + turn * 700)
          .putCacheInfo("output_tokens", 200 + turn * 100)
          .putCacheInfo("cache_read_input_tokens", turn * 650)
          .build();
      stub.updateCache(cache);
      requestBytes.add(append.getSerializedSize() + cache.getSerializedSize());
    }

    /** Deletes the conversations the turns wrote, so that the next turn starts a new one. */
    void clear(ConversationServiceBlockingStub stub) {
      for (int c = 0; c < clients; c++) {
        stub.clear(ClearRequest.newBuilder().setThreadId(threads[c]).build());
        turns[c] = 0;
      }
    }

    @Override
    void finish() {
      // The histories grow during the run; say by how much.
      long most = Arrays.stream(turns).max().orElse(0);
      note = prefill == 0 ? "" : String.format(Locale.ROOT, "histories %d..%d msgs", prefill, prefill + 2 * most);
    }
  }

  /** W2: the seed's pattern, a Save of the full history every turn, the history growing by 2 messages a turn. */
  final class SeedSave extends Workload {
    static final int MAX_MESSAGES = 200;
    final List<List<Message>> histories = new ArrayList<>();
    final int[] generation;
    final LongAdder historySizes = new LongAdder();
    final LongAdder saves = new LongAdder();

    SeedSave(int clients) {
      super("W2", clients);
      generation = new int[clients];
      for (int c = 0; c < clients; c++) {
        histories.add(new ArrayList<>());
      }
    }

    @Override
    void op(int c, ConversationServiceBlockingStub stub) {
      List<Message> history = histories.get(c);
      if (history.size() >= MAX_MESSAGES) {
        // A bounded history keeps the request size bounded; the next turns go to a fresh conversation.
        history.clear();
        generation[c]++;
      }
      long turn = history.size() / 2;
      history.addAll(turnMessages("t", turn));
      SaveRequest save = SaveRequest.newBuilder().setThreadId(runId + "-W2-" + c + "-" + generation[c])
          .addAllMessages(history).putCacheInfo("input_tokens", 1000 + turn * 700).build();
      stub.save(save);
      requestBytes.add(save.getSerializedSize());
      historySizes.add(history.size());
      saves.increment();
    }

    @Override
    void finish() {
      long n = saves.sum();
      note = n == 0 ? "" : String.format(Locale.ROOT, "avg history %.0f msgs, %.0f KB sent per Save",
          (double) historySizes.sum() / n, requestBytes.sum() / 1024.0 / n);
    }
  }

  /** W3: Get of a 1,000-message conversation, whole or its newest 20 messages. */
  final class Read extends Workload {
    final String thread;
    final int maxMessages;

    Read(String name, int clients, int maxMessages) {
      super(name, clients);
      this.maxMessages = maxMessages;
      this.thread = runId + (name.startsWith("warm-up") ? "-warm-up" : "-W3");
    }

    @Override
    void setup(ConversationServiceBlockingStub stub) {
      GetRequest probe = GetRequest.newBuilder().setThreadId(thread).setMaxMessages(1).build();
      try {
        stub.get(probe);
        return; // the other W3 row created it already
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
          throw e;
        }
      }
      for (int turn = 0; turn < 500; turn += 100) {
        AppendRequest.Builder b = AppendRequest.newBuilder().setThreadId(thread);
        for (int t = turn; t < turn + 100; t++) {
          b.addAllMessages(turnMessages("t", t));
        }
        stub.append(b.build());
      }
    }

    @Override
    void op(int c, ConversationServiceBlockingStub stub) {
      int got = stub.get(GetRequest.newBuilder().setThreadId(thread).setMaxMessages(maxMessages).build())
          .getConversation().getMessagesCount();
      int expected = maxMessages == 0 ? 1000 : maxMessages;
      if (got != expected) {
        throw new IllegalStateException("Get returned " + got + " messages, expected " + expected);
      }
    }
  }

  /**
   * W5: 16 clients append to one conversation with expected_version, retrying on ABORTED. The clients move on
   * together to a new conversation every {@code --w5-messages-per-conversation} messages, so that a fast server
   * does not run the conversation into the history limit within the run.
   */
  final class HotThread extends Workload {
    /** The conversation the clients race on now (the {@code generation}-th), and the newest version seen. */
    private record Hot(int generation, long version) {}

    final AtomicReference<Hot> hot = new AtomicReference<>();
    final long[] turns;

    HotThread(int clients) {
      super("W5", clients);
      turns = new long[clients];
    }

    String thread(int generation) {
      return runId + "-W5-" + generation;
    }

    @Override
    void setup(ConversationServiceBlockingStub stub) {
      AppendResponse r = stub.append(AppendRequest.newBuilder().setThreadId(thread(0))
          .addMessages(msg("start", userMessage(0))).build());
      hot.set(new Hot(0, r.getVersion()));
    }

    @Override
    void op(int c, ConversationServiceBlockingStub stub) {
      long turn = turns[c]++;
      List<Message> messages = turnMessages("c" + c, turn);
      // Each client starts from the last version it saw anywhere (as if it had just read the thread). On a new
      // conversation that is 0: "only if it does not exist yet", so one client creates it and the others retry.
      Hot target = hot.get();
      long expected = target.version();
      for (int attempt = 0; ; attempt++) {
        try {
          AppendResponse r = stub.append(AppendRequest.newBuilder().setThreadId(thread(target.generation()))
              .addAllMessages(messages).setExpectedVersion(expected).build());
          hot.updateAndGet(h -> h.generation() != target.generation() ? h
              : r.getMessageCount() >= w5MessagesPerConversation ? new Hot(h.generation() + 1, 0)
              : new Hot(h.generation(), Math.max(h.version(), r.getVersion())));
          return;
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() != Status.Code.ABORTED || attempt >= 10_000) {
            throw e;
          }
          retries.increment();
          ConversationStoreException typed = ConversationStoreException.from(e);
          if (!(typed instanceof VersionConflictException conflict)) {
            throw e;
          }
          expected = conflict.currentVersion();
        }
      }
    }

    @Override
    void finish() {
      long ops = Arrays.stream(turns).sum();
      note = ops == 0 ? "" : String.format(Locale.ROOT, "%.2f retries per op, %d conversation(s)",
          (double) retries.sum() / ops, hot.get().generation() + 1);
    }
  }

  private List<Workload> build(String w) {
    return switch (w) {
      case "W1" -> List.of(new AgentTurn("W1", clients, 0));
      case "W2" -> List.of(new SeedSave(clients));
      case "W3" -> List.of(new Read("W3-get-all", clients, 0), new Read("W3-newest-20", clients, 20));
      case "W4" -> List.of(new AgentTurn("W4-10", clients, 10), new AgentTurn("W4-1000", clients, 1000),
          new AgentTurn("W4-10000", clients, 10_000));
      case "W5" -> List.of(new HotThread(16));
      default -> throw new IllegalArgumentException(w);
    };
  }

  // ---- running --------------------------------------------------------------------------------------------

  private void runAll(Server server, String backend, String durability, List<String> selected, Duration measure,
      Duration warm) throws InterruptedException {
    int needed = Math.max(clients, 16);
    List<ConversationClient> pool = new ArrayList<>();
    for (int i = 0; i < Math.max(1, channels); i++) {
      pool.add(ConversationClient.builder(server.target).maxAttempts(1).deadline(Duration.ofSeconds(60)).build());
    }
    try {
      ConversationServiceBlockingStub[] stubs = new ConversationServiceBlockingStub[needed];
      for (int c = 0; c < needed; c++) {
        stubs[c] = pool.get(c % pool.size()).stub().withDeadline(null);
      }
      Duration serverWarm = parseDuration(serverWarmup);
      if (!serverWarm.isZero()) {
        String label = "server warm-up (" + backend + (durability.equals("-") ? "" : "/" + durability) + ")";
        warmUpServer(server, label, stubs, serverWarm, parseDuration(serverWarmupMax));
      }
      for (String w : selected) {
        for (Workload workload : build(w)) {
          results.add(run(server, backend, durability, workload, stubs, measure, warm));
        }
      }
    } finally {
      for (ConversationClient client : pool) {
        client.close();
      }
    }
  }

  /** How long each step of the server warm-up runs turns, then reads (shorter if the whole warm-up is). */
  private static final Duration WARM_UP_STEP = Duration.ofSeconds(5);
  /** The share of one CPU under which the server's JIT compiler counts as done with the workloads' code. */
  private static final double JIT_QUIET_SHARE = 0.05;

  /**
   * A fresh JVM runs interpreted, then compiles what is hot. On two cores the compiler competes with the load for
   * CPU and can still be at it long after a fixed warm-up (measured: a C2 compiler thread took a quarter of the
   * machine during SQLite's W1, 10 s after the start, and far less during the memory backend's), so a fixed
   * warm-up favours the backend with less code to compile. This runs W1 turns and W3 reads in steps for at least
   * {@code least} and then, when the server's process id is known, on until its compiler threads used less than
   * {@link #JIT_QUIET_SHARE} of one CPU in a step, for at most {@code most}. The turns' conversations are cleared
   * after each step, so that the memory backend's heap does not fill up with warm-up data.
   */
  private void warmUpServer(Server server, String label, ConversationServiceBlockingStub[] stubs, Duration least,
      Duration most) throws InterruptedException {
    // As many clients as the workloads use: with fewer, W1 (the first workload) still ran at half the speed the
    // same turn reached minutes later (memory backend, 2 cores).
    AgentTurn turns = new AgentTurn("warm-up", clients, 0);
    Workload reads = new Read("warm-up-read", 4, 20);
    reads.setup(stubs[0].withDeadlineAfter(10, TimeUnit.MINUTES));
    Long compilerBefore = server.compilerCpuMillis();
    boolean untilQuiet = compilerBefore != null && most.compareTo(least) > 0;
    System.out.printf("%s: W1 turns and W3 reads for %d s%s%n", label, least.toSeconds(), untilQuiet
        ? String.format(Locale.ROOT, ", then on until the JIT compiler is quiet (at most %d s)", most.toSeconds())
        : "");
    Duration halfStep = (least.compareTo(WARM_UP_STEP) < 0 ? least : WARM_UP_STEP).dividedBy(2);
    long start = System.nanoTime();
    long stepStart = start;
    while (true) {
      phase(label + " turns", turns, stubs, halfStep, Long.MAX_VALUE, null);
      turns.clear(stubs[0]);
      phase(label + " reads", reads, stubs, halfStep, Long.MAX_VALUE, null);
      Long compilerAfter = server.compilerCpuMillis();
      long stepEnd = System.nanoTime();
      Duration elapsed = Duration.ofNanos(stepEnd - start);
      Double compilerShare = compilerBefore == null || compilerAfter == null ? null
          : (compilerAfter - compilerBefore) / ((stepEnd - stepStart) / 1e6);
      compilerBefore = compilerAfter; // one step's end is the next one's start
      stepStart = stepEnd;
      if (compilerShare != null) {
        System.out.printf(Locale.ROOT, "%s: %d s, JIT compiler threads at %.0f%% of a CPU in the last step%n", label,
            elapsed.toSeconds(), 100 * compilerShare);
      }
      boolean quiet = !untilQuiet || compilerShare == null || compilerShare < JIT_QUIET_SHARE;
      if (elapsed.compareTo(least) >= 0 && (quiet || elapsed.compareTo(most) >= 0)) {
        return;
      }
    }
  }

  private Result run(Server server, String backend, String durability, Workload w,
      ConversationServiceBlockingStub[] stubs, Duration measure, Duration warm) throws InterruptedException {
    String label = w.name + " " + backend + (durability.equals("-") ? "" : "/" + durability) + " c=" + w.clients;
    System.out.printf("%s: setting up%n", label);
    w.setup(stubs[0].withDeadlineAfter(10, TimeUnit.MINUTES));
    server.resetPeakRss();
    if (!warm.isZero()) {
      System.out.printf("%s: warming up for %d ms%n", label, warm.toMillis());
      phase(label + " warm-up", w, stubs, warm, Long.MAX_VALUE, null);
    }
    w.retries.reset();
    w.requestBytes.reset();
    // The server refreshes its store counters at most every 500 ms; wait so that the reading is current.
    Thread.sleep(600);
    long[] before = server.storeCounters();
    Long cpuBefore = server.cpuMillis();
    MachineCpu.Sample machineBefore = MachineCpu.sample();
    Histogram histogram = new Histogram(TimeUnit.MINUTES.toNanos(2), 3);
    Phase p = phase(label, w, stubs, measure, maxOps, histogram);
    MachineCpu.Sample machineAfter = MachineCpu.sample();
    Long cpuAfter = server.cpuMillis();
    Thread.sleep(600);
    long[] after = server.storeCounters();
    w.finish();
    Long rss = server.peakRssKb();

    long ops = histogram.getTotalCount();
    double seconds = p.nanos / 1e9;
    Double writesPerSync = null;
    Double bytesPerOp = null;
    if (before != null && after != null && ops > 0) {
      long writes = after[0] - before[0];
      long syncs = after[1] - before[1];
      long bytes = after[2] - before[2];
      writesPerSync = syncs > 0 ? (double) writes / syncs : null;
      // Bytes written only mean something for a store that writes (and for workloads that write).
      bytesPerOp = backend.equals("memory") || writes == 0 ? null : (double) bytes / ops;
    }
    Double requestBytesPerOp = ops > 0 && w.requestBytes.sum() > 0 ? (double) w.requestBytes.sum() / ops : null;
    Double cpuPerOp = cpuBefore == null || cpuAfter == null || ops == 0 ? null : (double) (cpuAfter - cpuBefore) / ops;
    Result r = new Result(round, w.name, backend, durability, w.clients, ops, seconds, ops / seconds,
        histogram.getValueAtPercentile(50) / 1e6, histogram.getValueAtPercentile(99) / 1e6,
        histogram.getMaxValue() / 1e6, rss, cpuPerOp, writesPerSync, bytesPerOp, requestBytesPerOp, w.retries.sum(),
        p.errors, p.firstError, w.note, MachineCpu.between(machineBefore, machineAfter, ops));
    System.out.printf(Locale.ROOT, "%s: %d ops in %.1f s = %.0f ops/s, p50 %.2f ms, p99 %.2f ms%s%s%n", label, ops,
        seconds, r.opsPerSecond(), r.p50Ms(), r.p99Ms(),
        writesPerSync == null ? "" : String.format(Locale.ROOT, ", %.1f writes/sync", writesPerSync),
        p.errors == 0 ? "" : ", " + p.errors + " errors (first: " + p.firstError + ")");
    return r;
  }

  record Phase(long nanos, long errors, String firstError) {}

  /**
   * Runs {@code w} with its clients until {@code length} has passed or {@code opLimit} ops are done, recording
   * each op's latency into {@code histogram} (when given). Prints progress every 2 s.
   */
  private Phase phase(String label, Workload w, ConversationServiceBlockingStub[] stubs, Duration length,
      long opLimit, Histogram histogram) throws InterruptedException {
    long start = System.nanoTime();
    long end = start + length.toNanos();
    LongAdder done = new LongAdder();
    LongAdder errors = new LongAdder();
    AtomicReference<String> firstError = new AtomicReference<>();
    long perClient = Math.max(1, opLimit / w.clients);
    Histogram[] histograms = new Histogram[w.clients];
    CountDownLatch finished = new CountDownLatch(w.clients);
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < w.clients; c++) {
      int client = c;
      Histogram h = histogram == null ? null : new Histogram(TimeUnit.MINUTES.toNanos(2), 3);
      histograms[c] = h;
      Thread t = new Thread(() -> {
        try {
          ConversationServiceBlockingStub stub = stubs[client];
          for (long n = 0; n < perClient && System.nanoTime() < end; n++) {
            long t0 = System.nanoTime();
            try {
              w.op(client, stub.withDeadlineAfter(60, TimeUnit.SECONDS));
            } catch (RuntimeException e) {
              errors.increment();
              firstError.compareAndSet(null, e.toString());
              if (errors.sum() > 1000) {
                return; // something is badly wrong; stop rather than spin
              }
              continue;
            }
            long took = System.nanoTime() - t0;
            if (h != null) {
              h.recordValue(Math.min(took, h.getHighestTrackableValue()));
            }
            done.increment();
          }
        } finally {
          finished.countDown();
        }
      }, "bench-client-" + c);
      t.setDaemon(true);
      threads.add(t);
    }
    threads.forEach(Thread::start);
    long lastPrint = start;
    // Bounded: every op has a 60 s deadline, so the phase ends at most a minute after its time is up.
    while (!finished.await(200, TimeUnit.MILLISECONDS)) {
      long now = System.nanoTime();
      if (now - lastPrint >= TimeUnit.SECONDS.toNanos(2)) {
        lastPrint = now;
        double s = (now - start) / 1e9;
        System.out.printf(Locale.ROOT, "  %s: %.0f s, %d ops (%.0f ops/s)%s%n", label, s, done.sum(),
            done.sum() / s, errors.sum() == 0 ? "" : ", " + errors.sum() + " errors");
      }
    }
    long nanos = System.nanoTime() - start;
    if (histogram != null) {
      for (Histogram h : histograms) {
        histogram.add(h);
      }
    }
    return new Phase(nanos, errors.sum(), firstError.get());
  }

  // ---- output -------------------------------------------------------------------------------------------

  private void printTable(List<Result> rows) {
    String header = String.format("%-13s %-7s %-6s %4s %8s %8s %8s %8s %8s %11s %9s %5s %6s  %s", "workload",
        "backend", "durab.", "cl.", "ops/s", "p50 ms", "p99 ms", "RSS MiB", "CPU ms/op", "writes/sync", "KB wr./op",
        "idle%", "steal%", "notes");
    System.out.println();
    System.out.println(header);
    System.out.println("-".repeat(header.length() + 20));
    for (Result r : rows) {
      String notes = r.note();
      if (r.errors() > 0) {
        notes = (notes.isEmpty() ? "" : notes + "; ") + r.errors() + " errors: " + r.firstError();
      }
      MachineCpu.Use machine = r.machine() == null ? MachineCpu.Use.UNKNOWN : r.machine();
      System.out.println(String.format(Locale.ROOT,
          "%-13s %-7s %-6s %4d %8.0f %8.2f %8.2f %8s %8s %11s %9s %5s %6s  %s",
          r.workload(), r.backend(), r.durability(), r.clients(), r.opsPerSecond(), r.p50Ms(), r.p99Ms(),
          r.peakRssKb() == null ? "-" : String.format(Locale.ROOT, "%.0f", r.peakRssKb() / 1024.0),
          r.serverCpuMsPerOp() == null ? "-" : String.format(Locale.ROOT, "%.2f", r.serverCpuMsPerOp()),
          r.writesPerSync() == null ? "-" : String.format(Locale.ROOT, "%.1f", r.writesPerSync()),
          r.bytesWrittenPerOp() == null ? "-" : String.format(Locale.ROOT, "%.1f", r.bytesWrittenPerOp() / 1024),
          machine.idlePercent() == null ? "-" : String.format(Locale.ROOT, "%.0f", machine.idlePercent()),
          machine.stealPercent() == null ? "-" : String.format(Locale.ROOT, "%.0f", machine.stealPercent()),
          notes));
    }
    System.out.println();
  }

  /**
   * The figure issue 4's first target is judged by: W1 with SQLite durability=full over W1 with the memory backend,
   * of the medians, and of each round (whose backends ran minutes apart).
   */
  private void printRatio(List<Result> medians) {
    List<Double> perRound = new ArrayList<>();
    for (int r = 1; r <= rounds; r++) {
      Double ratio = Medians.ratio(results, r, "W1");
      if (ratio != null) {
        perRound.add(ratio);
      }
    }
    Double median = Medians.ratio(medians, null, "W1");
    if (median != null) {
      System.out.printf(Locale.ROOT, "W1 sqlite/full vs memory: %.2fx (medians)%s%n%n", median,
          rounds == 1 ? "" : ", by round: " + perRound.stream().map(x -> String.format(Locale.ROOT, "%.2fx", x))
              .collect(Collectors.joining(" ")));
    }
    // The W4 target: a turn on a 10,000-message conversation at most 1.3x one on a 10-message conversation.
    for (Medians.Growth g : Medians.growth(medians, "W4-10", "W4-10000")) {
      System.out.printf(Locale.ROOT, "W4 %s%s: a turn on 10,000 messages costs %.2fx (p50) and %.2fx (ops/s) one on"
          + " 10%s%n", g.backend(), g.durability().equals("-") ? "" : "/" + g.durability(), g.p50Ratio(),
          g.opsRatio(), rounds == 1 ? "" : " (medians)");
    }
  }

  private void writeJson(List<Result> medians) throws IOException {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("time", Instant.now().toString());
    doc.put("machine", Map.of("cpus", Runtime.getRuntime().availableProcessors(),
        "os", System.getProperty("os.name") + " " + System.getProperty("os.version"),
        "java", System.getProperty("java.version")));
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("target", target);
    settings.put("duration", duration);
    settings.put("warmup", warmup);
    settings.put("serverWarmup", serverWarmup);
    settings.put("serverWarmupMax", serverWarmupMax);
    settings.put("clients", clients);
    settings.put("channels", channels);
    settings.put("messageIds", messageIds);
    settings.put("w5MessagesPerConversation", w5MessagesPerConversation);
    settings.put("serverJvmOpts", target == null ? serverJvmOpts : null);
    settings.put("serverArgs", serverArgs);
    settings.put("databaseDir", databaseDir == null ? null : databaseDir.toString());
    settings.put("rounds", rounds);
    doc.put("settings", settings);
    // "results": one row per workload and backend (the median round); "rounds": every round's rows.
    doc.put("results", medians);
    doc.put("rounds", results);
    Files.writeString(json, new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create()
        .toJson(doc) + "\n");
    System.out.println("bench: results written to " + json.toAbsolutePath());
  }

  // ---- helpers ------------------------------------------------------------------------------------------

  static Duration parseDuration(String text) {
    Matcher m = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m)?").matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("not a duration: " + text + " (e.g. 10s, 500ms, 1m)");
    }
    double value = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    double millis = switch (unit) {
      case "ms" -> value;
      case "m" -> value * 60_000;
      default -> value * 1000;
    };
    return Duration.ofMillis((long) millis);
  }

  private static void deleteTree(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      System.out.println("bench: could not delete " + dir + ": " + e);
    }
  }
}
