package io.vmpilot.conversation.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the load goes (one server, or several on one database: then clients are spread over them and the figures
 * are their sums), and where its counters and memory figures come from.
 */
final class ServerUnderTest {
  /** The store's counters at one moment: acknowledged writes, syncs, bytes written to the file. */
  record StoreCounters(long writes, long syncs, long bytes) {}

  /** The first server's address; {@link #targets} has them all. */
  final String target;
  final List<String> targets;
  private final List<String> metricsUrls;
  private final List<Long> pids;
  /** The database's root process (PostgreSQL's postmaster), when there is one apart from the servers. */
  private Long databasePid;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  ServerUnderTest(String target, String metricsUrl, Long pid) {
    this(List.of(target), metricsUrl == null ? List.of() : List.of(metricsUrl), pid == null ? List.of() : List.of(pid));
  }

  /** Several servers; the counters and memory figures are known only when every server's are. */
  ServerUnderTest(List<String> targets, List<String> metricsUrls, List<Long> pids) {
    this.target = targets.get(0);
    this.targets = List.copyOf(targets);
    this.metricsUrls = metricsUrls.size() == targets.size() ? List.copyOf(metricsUrls) : List.of();
    this.pids = pids.size() == targets.size() ? List.copyOf(pids) : List.of();
  }

  /** Names the database's root process, whose tree's CPU and writes are then read as well. */
  void databasePid(Long pid) {
    this.databasePid = pid;
  }

  /** CPU and bytes written so far by the database's processes, or null without one (or when unreadable). */
  ProcessTree.Sample database() {
    return ProcessTree.sample(databasePid);
  }

  /**
   * CPU and bytes written so far by the whole server side: the servers' processes and the database's, or null when
   * any is unknown.
   */
  ProcessTree.Sample serverSide() {
    if (pids.isEmpty()) {
      return null;
    }
    long cpu = 0;
    Long bytes = 0L;
    List<Long> roots = new ArrayList<>(pids);
    if (databasePid != null) {
      roots.add(databasePid);
    }
    for (Long pid : roots) {
      ProcessTree.Sample one = ProcessTree.sample(pid);
      if (one == null) {
        return null;
      }
      cpu += one.cpuMillis();
      bytes = bytes == null || one.writeBytes() == null ? null : bytes + one.writeBytes();
    }
    return new ProcessTree.Sample(cpu, bytes);
  }

  /** The stores' counters summed over the servers, or null without metrics endpoints. */
  StoreCounters storeCounters() {
    if (metricsUrls.isEmpty()) {
      return null;
    }
    long writes = 0;
    long syncs = 0;
    long bytes = 0;
    for (String url : metricsUrls) {
      StoreCounters one = storeCounters(url);
      if (one == null) {
        return null;
      }
      writes += one.writes();
      syncs += one.syncs();
      bytes += one.bytes();
    }
    return new StoreCounters(writes, syncs, bytes);
  }

  private StoreCounters storeCounters(String metricsUrl) {
    try {
      String body = http.send(HttpRequest.newBuilder(URI.create(metricsUrl)).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      return new StoreCounters(counter(body, "conversation_store_writes_total"),
          counter(body, "conversation_store_syncs_total"), counter(body, "conversation_store_written_bytes_total"));
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

  /** A figure of every server's process, summed; null when any is unknown (or no process id is). */
  private Long sum(Function<Long, Long> perProcess) {
    if (pids.isEmpty()) {
      return null;
    }
    long total = 0;
    for (Long pid : pids) {
      Long one = perProcess.apply(pid);
      if (one == null) {
        return null;
      }
      total += one;
    }
    return total;
  }

  /** Resets the kernel's peak-RSS mark of the servers (Linux: "5" to /proc/PID/clear_refs). */
  void resetPeakRss() {
    for (Long pid : pids) {
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
    return sum(ServerUnderTest::cpuMillis);
  }

  private static Long cpuMillis(Long pid) {
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
    return sum(ServerUnderTest::compilerCpuMillis);
  }

  private static Long compilerCpuMillis(Long pid) {
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

  /** VmHWM of the servers in KiB (summed), or null when unknown. */
  Long peakRssKb() {
    return sum(ServerUnderTest::peakRssKb);
  }

  private static Long peakRssKb(Long pid) {
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
