package io.vmpilot.conversation.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Durations as the benchmark's options take them, and as its JSON records them. */
class DurationConverterTest {
  private final DurationConverter converter = new DurationConverter();

  @Test
  void readsMillisecondsSecondsAndMinutesWithSecondsForABareNumber() {
    assertThat(converter.convert("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(converter.convert("2.5s")).isEqualTo(Duration.ofMillis(2500));
    assertThat(converter.convert(" 1m ")).isEqualTo(Duration.ofMinutes(1));
    assertThat(converter.convert("10")).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void formatsWholeSecondsAsSecondsAndTheRestAsMilliseconds() {
    assertThat(DurationConverter.format(Duration.ofSeconds(10))).isEqualTo("10s");
    assertThat(DurationConverter.format(Duration.ofMillis(2500))).isEqualTo("2500ms");
    assertThat(DurationConverter.format(Duration.ZERO)).isEqualTo("0s");
  }

  @Test
  void rejectsWhatIsNotADuration() {
    assertThatThrownBy(() -> converter.convert("ten")).isInstanceOf(CommandLine.TypeConversionException.class)
        .hasMessageContaining("'ten' is not a duration");
    assertThatThrownBy(() -> converter.convert("5h")).isInstanceOf(CommandLine.TypeConversionException.class);
  }

  @Test
  void aMistypedDurationOptionIsAUsageErrorThatNamesTheOption() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CommandLine command = new CommandLine(new Benchmark());
    command.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    int exit = command.execute("--warmup", "2 seconds");
    assertThat(exit).isEqualTo(command.getCommandSpec().exitCodeOnInvalidInput());
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--warmup").contains("is not a duration");
  }
}
