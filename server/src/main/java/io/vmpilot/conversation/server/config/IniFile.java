package io.vmpilot.conversation.server.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@code config.ini} in the format VMPilot uses: {@code [section]} headers, {@code key = value} lines, and
 * comments starting with ';' or '#', whole-line or after a value (VMPilot's own example has
 * {@code enabled = true ; false (the default) = in-memory}). Section and key names are case-insensitive.
 */
public final class IniFile {
  private final Map<String, String> values;

  private IniFile(Map<String, String> values) {
    this.values = Map.copyOf(values);
  }

  public static IniFile empty() {
    return new IniFile(Map.of());
  }

  public static IniFile read(Path path) throws IOException {
    return parse(Files.readAllLines(path), path.toString());
  }

  static IniFile parse(List<String> lines, String source) {
    Map<String, String> values = new HashMap<>();
    String section = null;
    for (int i = 0; i < lines.size(); i++) {
      String line = stripComment(lines.get(i)).strip();
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("[") && line.endsWith("]")) {
        section = line.substring(1, line.length() - 1).strip().toLowerCase();
        continue;
      }
      int eq = line.indexOf('=');
      if (eq <= 0 || section == null) {
        throw new IllegalArgumentException(source + ":" + (i + 1) + ": expected '[section]' or 'key = value', found: "
            + lines.get(i));
      }
      values.put(section + "." + line.substring(0, eq).strip().toLowerCase(), line.substring(eq + 1).strip());
    }
    return new IniFile(values);
  }

  private static String stripComment(String line) {
    String trimmed = line.stripLeading();
    if (trimmed.startsWith(";") || trimmed.startsWith("#")) {
      return "";
    }
    for (int i = 1; i < line.length(); i++) {
      char c = line.charAt(i);
      if ((c == ';' || c == '#') && Character.isWhitespace(line.charAt(i - 1))) {
        return line.substring(0, i);
      }
    }
    return line;
  }

  /** The value of {@code key} in {@code section}, if the file sets it. */
  public Optional<String> get(String section, String key) {
    return Optional.ofNullable(values.get(section.toLowerCase() + "." + key.toLowerCase()));
  }
}
