package io.vmpilot.conversation.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The benchmark's --help renders every option's text (a bare '%' in one made picocli warn and print it raw). */
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
}
