package io.vmpilot.conversation.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The benchmark's command line: --help renders every option's text (a bare '%' in one made picocli warn and print it
 * raw), and a bad value is a usage error before anything runs.
 */
class BenchmarkHelpTest {
  @Test
  void helpRendersWithoutFormattingWarnings() {
    PrintStream stderr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    String usage;
    try {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      usage = new CommandLine(new Benchmark()).getUsageMessage();
    } finally {
      System.setErr(stderr);
    }
    assertThat(captured.toString(StandardCharsets.UTF_8)).doesNotContain("WARN");
    assertThat(usage).contains("--rounds=N").contains("25% off");
  }

  @Test
  void aNegativeConversationLengthIsAUsageErrorBeforeAnyServerStarts() {
    // Checked in call(), reported like picocli's own usage errors: on the command line's error writer.
    StringWriter captured = new StringWriter();
    CommandLine command = new CommandLine(new Benchmark()).setErr(new PrintWriter(captured, true));
    int exit = command.execute("--w1-messages-per-conversation", "-1");
    assertThat(exit).isEqualTo(command.getCommandSpec().exitCodeOnInvalidInput());
    assertThat(captured.toString()).contains("--w1-messages-per-conversation must be 0");
  }

  @Test
  void aBatchOfNoTurnsIsAUsageErrorBeforeAnyServerStarts() {
    StringWriter captured = new StringWriter();
    CommandLine command = new CommandLine(new Benchmark()).setErr(new PrintWriter(captured, true));
    int exit = command.execute("--backends", "postgres", "--pgbench-batch", "1,0");
    assertThat(exit).isEqualTo(command.getCommandSpec().exitCodeOnInvalidInput());
    assertThat(captured.toString()).contains("--pgbench-batch: every K must be at least 1");
  }
}
