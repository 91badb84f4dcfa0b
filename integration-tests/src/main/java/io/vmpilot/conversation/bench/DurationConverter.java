package io.vmpilot.conversation.bench;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** The benchmark's durations as people type them: {@code 10s}, {@code 500ms}, {@code 1m}, {@code 2.5s}; bare = s. */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m)?");

  @Override
  public Duration convert(String text) {
    Matcher m = DURATION.matcher(text.strip());
    if (!m.matches()) {
      throw new CommandLine.TypeConversionException("'" + text + "' is not a duration (e.g. 10s, 500ms, 1m)");
    }
    double value = Double.parseDouble(m.group(1));
    double millis = switch (m.group(2) == null ? "s" : m.group(2)) {
      case "ms" -> value;
      case "m" -> value * 60_000;
      default -> value * 1000;
    };
    return Duration.ofMillis((long) millis);
  }

  /** The same spelling back, for the JSON's settings: whole seconds as {@code 10s}, the rest in milliseconds. */
  static String format(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }
}
