package io.vmpilot.conversation.it;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.Message;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.Histogram;

/**
 * A bystander client in a process of its own (its own JVM, network thread and garbage collector, as a real client
 * beside a flood has): small calls one after another on one connection, an Append of one message, then a Get of the
 * newest message, until told to stop on its standard input. It then prints one line of counts and latencies. A
 * bystander inside the test's JVM shared its CPU and its pauses with the flood's 200 clients parsing 20 MB each.
 */
final class BystanderProcess implements AutoCloseable {
  /** What the bystander saw; latencies in microseconds. */
  record Result(long ok, long failures, String firstFailure, long p50Micros, long p99Micros, long maxMicros,
      long appends, long appendP50Micros, long appendP99Micros, long gets, long getP50Micros, long getP99Micros) {
    static Result parse(String line) {
      String[] f = line.substring("RESULT ".length()).split("\t", -1);
      long[] n = new long[11];
      for (int i = 0, j = 0; i < f.length; i++) {
        if (i != 2) {
          n[j++] = Long.parseLong(f[i]);
        }
      }
      return new Result(n[0], n[1], f[2].isEmpty() ? null : f[2], n[2], n[3], n[4], n[5], n[6], n[7], n[8], n[9],
          n[10]);
    }

    String line() {
      return "RESULT " + String.join("\t", Long.toString(ok), Long.toString(failures),
          firstFailure == null ? "" : firstFailure.replaceAll("[\t\n]", " "), Long.toString(p50Micros),
          Long.toString(p99Micros), Long.toString(maxMicros), Long.toString(appends), Long.toString(appendP50Micros),
          Long.toString(appendP99Micros), Long.toString(gets), Long.toString(getP50Micros),
          Long.toString(getP99Micros));
    }

    @Override
    public String toString() {
      return ok + " small Appends and Gets OK, " + failures + " failed" + (firstFailure == null ? ""
          : " (" + firstFailure + ")") + ", latency p50 " + ms(p50Micros) + " ms, p99 " + ms(p99Micros) + " ms, max "
          + ms(maxMicros) + " ms (Appends " + appends + ", p50 " + ms(appendP50Micros) + " ms, p99 "
          + ms(appendP99Micros) + " ms; Gets " + gets + ", p50 " + ms(getP50Micros) + " ms, p99 " + ms(getP99Micros)
          + " ms)";
    }

    private static double ms(long micros) {
      return micros / 1000.0;
    }
  }

  private final Process process;
  private final BufferedReader out;
  private final StringBuilder seen = new StringBuilder();

  private BystanderProcess(Process process) {
    this.process = process;
    this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
  }

  /**
   * Starts the bystander against {@code target} and returns once its first, untimed Append and Get have gone
   * through (connection set up, both sides' code warm).
   */
  static BystanderProcess start(String target) throws IOException {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
        "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), BystanderProcess.class.getName(), target)
        .redirectErrorStream(true).start();
    BystanderProcess b = new BystanderProcess(p);
    b.awaitLine("READY");
    return b;
  }

  /** Tells the bystander to stop, and returns what it saw. */
  Result stop() throws IOException {
    OutputStream in = process.getOutputStream();
    in.write('\n');
    in.flush();
    Result result = Result.parse(awaitLine("RESULT "));
    try {
      close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return result;
  }

  /** Runs for {@code seconds} by the clock (a measuring period, not synchronisation), then stops. */
  Result runFor(int seconds) throws IOException, InterruptedException {
    Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
    return stop();
  }

  private String awaitLine(String prefix) throws IOException {
    String line;
    while ((line = out.readLine()) != null) {
      seen.append(line).append('\n');
      if (line.startsWith(prefix)) {
        return line;
      }
    }
    throw new IllegalStateException("the bystander process ended without \"" + prefix + "\"; its output:\n" + seen);
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }

  /** The bystander itself: {@code BystanderProcess TARGET}. */
  public static void main(String[] args) throws Exception {
    ManagedChannel channel = Rpc.channel(args[0]);
    String thread = "bystander-" + ProcessHandle.current().pid();
    Rpc.stub(channel).append(AppendRequest.newBuilder().setThreadId(thread)
        .addMessages(Message.newBuilder().setJson("{\"warm\":true}")).build());
    Rpc.stub(channel).get(GetRequest.newBuilder().setThreadId(thread).setMaxMessages(1).build());
    AtomicBoolean running = new AtomicBoolean(true);
    Thread stopper = new Thread(() -> {
      try {
        System.in.read();
      } catch (IOException e) {
        // The test went away: stop all the same.
      }
      running.set(false);
    }, "stop-on-input");
    stopper.setDaemon(true);
    stopper.start();
    System.out.println("READY");
    System.out.flush();
    Histogram all = new Histogram(3);
    Histogram appends = new Histogram(3);
    Histogram gets = new Histogram(3);
    long ok = 0;
    long failures = 0;
    String firstFailure = null;
    for (int i = 0; running.get(); i++) {
      long t0 = System.nanoTime();
      try {
        if (i % 2 == 0) {
          Rpc.stub(channel).append(AppendRequest.newBuilder().setThreadId(thread)
              .addMessages(Message.newBuilder().setJson("{\"n\":" + i + "}")).build());
        } else {
          Rpc.stub(channel).get(GetRequest.newBuilder().setThreadId(thread).setMaxMessages(1).build());
        }
        long micros = (System.nanoTime() - t0) / 1000;
        all.recordValue(micros);
        (i % 2 == 0 ? appends : gets).recordValue(micros);
        ok++;
      } catch (RuntimeException e) {
        if (failures++ == 0) {
          firstFailure = Status.fromThrowable(e).toString();
        }
      }
    }
    System.out.println(new Result(ok, failures, firstFailure, all.getValueAtPercentile(50),
        all.getValueAtPercentile(99), all.getMaxValue(), appends.getTotalCount(), appends.getValueAtPercentile(50),
        appends.getValueAtPercentile(99), gets.getTotalCount(), gets.getValueAtPercentile(50),
        gets.getValueAtPercentile(99)).line());
    System.out.flush();
    Rpc.close(channel);
  }
}
