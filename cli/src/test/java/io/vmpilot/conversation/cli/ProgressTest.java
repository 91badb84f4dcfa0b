package io.vmpilot.conversation.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressTest {
  private static String run(boolean terminal, long total, int steps) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    Progress progress = new Progress(err, terminal, "imported", total);
    for (int i = 0; i < steps; i++) {
      progress.step();
    }
    progress.finish("imported " + progress.done());
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void withoutATerminalAPlainLineComesEveryThousandConversationsThenTheSummary() {
    String out = run(false, 2500, 2500);
    assertThat(out).doesNotContain("\r").doesNotContain("\u001b");
    List<String> lines = Arrays.asList(out.split("\n"));
    // The 2 s clock may add lines on a stalled machine; the count lines are there whatever the speed.
    assertThat(lines).anyMatch(l -> l.matches("imported 1000 of 2500 conversations \\(\\d+\\.\\d/s\\)"))
        .anyMatch(l -> l.matches("imported 2000 of 2500 conversations \\(\\d+\\.\\d/s\\)"));
    assertThat(lines.get(lines.size() - 1)).matches("imported 2500 in \\d+\\.\\d s");
    assertThat(lines.indexOf(lines.stream().filter(l -> l.startsWith("imported 1000 of")).findFirst().get()))
        .isLessThan(lines.size() - 1);
  }

  @Test
  void anUnknownTotalIsLeftOut() {
    assertThat(run(false, 0, 1000)).startsWith("imported 1000 conversations (");
  }

  @Test
  void onATerminalTheBarIsRedrawnInPlace() {
    String out = run(true, 10, 10);
    assertThat(out).contains("\r[##############################] 100% imported 10/10 conversations");
    assertThat(out).containsPattern("conversations, \\d+\\.\\d/s   \nimported 10 in \\d+\\.\\d s\n$");
  }
}
