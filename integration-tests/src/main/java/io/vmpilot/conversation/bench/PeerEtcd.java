package io.vmpilot.conversation.bench;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * etcd as a peer (row W1-etcd): Debian's etcd (scripts/install-etcd) started in a throwaway directory on free ports
 * (its write-ahead log synced on every commit, as it always is), and the Go load generator
 * integration-tests/peers/etcd-load (built into .tools/bin by scripts/install-tools) putting a value of the turn's
 * size with the same clients, once unmeasured as a warm-up and once measured. etcd's CPU and the bytes it wrote
 * are read from /proc around the measured run; the load generator reports its own CPU.
 */
final class PeerEtcd {
  /** A turn's two ~2 KB messages. */
  static final int VALUE_BYTES = 2 * SyntheticMessages.MESSAGE_BYTES;
  private static final Pattern CLIENT_PORT =
      Pattern.compile("serving insecure client requests on 127\\.0\\.0\\.1:(\\d+)");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  /** etcd-load's JSON line. */
  record Outcome(long puts, double seconds, double putsPerSecond, double p50Ms, double p99Ms, long errors,
      String firstError, double clientCpuMs) {}

  private PeerEtcd() {}

  /** Why etcd cannot be benchmarked here (a missing program, with what installs it), or null. */
  static String unavailable() {
    if (etcd() == null) {
      return "etcd not found on the PATH (Debian's etcd-server: scripts/install-etcd)";
    }
    if (!Files.isExecutable(loadGenerator())) {
      return loadGenerator() + " not found (scripts/install-tools builds it)";
    }
    return null;
  }

  /** Parses etcd-load's output: its last line is the JSON outcome. */
  static Outcome parse(String output) {
    String[] lines = output.strip().split("\n");
    try {
      Outcome o = new Gson().fromJson(lines[lines.length - 1], Outcome.class);
      if (o == null) {
        throw new IllegalStateException("etcd-load printed nothing");
      }
      return o;
    } catch (JsonParseException e) {
      throw new IllegalStateException("etcd-load printed no outcome:\n" + output, e);
    }
  }

  /** Starts etcd, runs the puts and returns the row; etcd and its directory are gone afterwards. */
  static Result run(int round, int clients, Duration warmup, Duration length, boolean pinned) throws Exception {
    Path dir = Files.createTempDirectory("bench-etcd");
    List<String> command = new ArrayList<>(pinned ? CorePinning.serverPrefix() : List.of());
    command.addAll(List.of(etcd().toString(), "--name", "bench", "--data-dir", dir.resolve("data").toString(),
        "--listen-client-urls", "http://127.0.0.1:0", "--advertise-client-urls", "http://127.0.0.1:0",
        "--listen-peer-urls", "http://127.0.0.1:0", "--initial-advertise-peer-urls", "http://127.0.0.1:0"));
    Process etcd = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      String endpoint = "127.0.0.1:" + clientPort(etcd, dir.resolve("etcd.log"));
      System.out.printf("W1-etcd c=%d: etcd %s on %s, put of %d bytes, %s warm-up%n", clients, version(), endpoint,
          VALUE_BYTES, DurationConverter.format(warmup));
      if (!warmup.isZero()) {
        load(endpoint, clients, warmup);
      }
      ProcessTree.Sample before = ProcessTree.sample(etcd.pid());
      MachineCpu.Sample machineBefore = MachineCpu.sample();
      Outcome o = load(endpoint, clients, length);
      MachineCpu.Sample machineAfter = MachineCpu.sample();
      ProcessTree.Sample after = ProcessTree.sample(etcd.pid());
      if (o.puts() == 0) {
        throw new IllegalStateException("etcd-load made no put: " + o.firstError());
      }
      MachineCpu.Use machine = MachineCpu.between(machineBefore, machineAfter, o.puts());
      Double cpu = after == null ? null : after.cpuMillisSince(before);
      Double bytes = after == null ? null : after.writeBytesSince(before);
      Result r = new Result(round, "W1-etcd", "etcd", "fsync", clients, o.puts(), o.seconds(), o.putsPerSecond(),
          o.p50Ms(), o.p99Ms(), Double.NaN, null, cpu == null ? null : cpu / o.puts(), null, null,
          (double) VALUE_BYTES, 0, o.errors(), o.firstError().isEmpty() ? null : o.firstError(),
          "etcd put of the turn's bytes, Go clientv3", new MachineCpu.Use(machine.idlePercent(),
          machine.stealPercent(), o.clientCpuMs() / o.puts()), bytes == null ? null : bytes / o.puts(), null);
      System.out.printf(Locale.ROOT, "W1-etcd c=%d: %d puts in %.1f s = %.0f puts/s, p50 %.2f ms, p99 %.2f ms%n",
          clients, o.puts(), o.seconds(), o.putsPerSecond(), o.p50Ms(), o.p99Ms());
      return r;
    } finally {
      etcd.destroy();
      if (!etcd.waitFor(30, TimeUnit.SECONDS)) {
        etcd.destroyForcibly().waitFor();
      }
      Benchmark.deleteTree(dir);
    }
  }

  /** Copies etcd's output to {@code log} on a thread of its own, and returns the client port once etcd says it. */
  private static int clientPort(Process etcd, Path log) throws Exception {
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread copier = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(etcd.getInputStream(),
          StandardCharsets.UTF_8)); PrintWriter out = new PrintWriter(Files.newBufferedWriter(log), true)) {
        for (String line; (line = in.readLine()) != null; ) {
          out.println(line);
          Matcher m = CLIENT_PORT.matcher(line);
          if (m.find()) {
            port.complete(Integer.parseInt(m.group(1)));
          }
        }
      } catch (IOException | RuntimeException e) {
        port.completeExceptionally(e);
      }
      port.completeExceptionally(new IllegalStateException("etcd ended before serving clients; see " + log));
    }, "etcd-log");
    copier.setDaemon(true);
    copier.start();
    try {
      return port.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("etcd did not start: " + e + "\n" + Files.readString(log), e);
    }
  }

  private static Outcome load(String endpoint, int clients, Duration length) throws Exception {
    List<String> command = List.of(loadGenerator().toString(), "-endpoints", endpoint, "-clients",
        Integer.toString(clients), "-duration", length.toMillis() + "ms", "-value-bytes",
        Integer.toString(VALUE_BYTES));
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(length.toSeconds() + 120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException("etcd-load failed:\n" + output);
    }
    return parse(output);
  }

  private static String version() {
    try {
      Process p = new ProcessBuilder(etcd().toString(), "--version").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor();
      Matcher m = Pattern.compile("etcd Version: (\\S+)").matcher(out);
      return m.find() ? m.group(1) : "?";
    } catch (IOException e) {
      return "?";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "?";
    }
  }

  /** The etcd program on the PATH, or null. */
  private static Path etcd() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path p = Path.of(dir, "etcd");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  private static Path loadGenerator() {
    return Tools.tool("bin/etcd-load");
  }
}
