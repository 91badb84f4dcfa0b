package io.vmpilot.conversation.server.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@code config.ini} in the format VMPilot uses: {@code [section]} headers, {@code key = value} lines, and
 * comments starting with ';' or '#', whole-line or after a value (VMPilot's own example has
 * {@code enabled = true ; false (the default) = in-memory}). Section and key names are case-insensitive.
 */
public final class IniFile {
  /** One {@code key = value} line: where it is, so that an error about it can say {@code file:line}. */
  record Entry(String section, String key, String value, int line) {}

  private final String source;
  // "section.key" -> entry, in the file's order.
  private final Map<String, Entry> values;
  // Section name -> the line of its first header, in the file's order.
  private final Map<String, Integer> sections;

  private IniFile(String source, Map<String, Entry> values, Map<String, Integer> sections) {
    this.source = source;
    this.values = values;
    this.sections = sections;
  }

  public static IniFile empty() {
    return new IniFile("(no config file)", Map.of(), Map.of());
  }

  public static IniFile read(Path path) throws IOException {
    return parse(Files.readAllLines(path), path.toString());
  }

  static IniFile parse(List<String> lines, String source) {
    Map<String, Entry> values = new LinkedHashMap<>();
    Map<String, Integer> sections = new LinkedHashMap<>();
    String section = null;
    for (int i = 0; i < lines.size(); i++) {
      String line = stripComment(lines.get(i)).strip();
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("[") && line.endsWith("]")) {
        section = line.substring(1, line.length() - 1).strip().toLowerCase();
        sections.putIfAbsent(section, i + 1);
        continue;
      }
      int eq = line.indexOf('=');
      if (eq <= 0 || section == null) {
        throw new IllegalArgumentException(source + ":" + (i + 1) + ": expected '[section]' or 'key = value', found: "
            + lines.get(i));
      }
      String key = line.substring(0, eq).strip().toLowerCase();
      // Refused as Python's configparser (VMPilot's reader) refuses it: with "the last one wins", an old line
      // left further down would silently undo the edit its reader just made.
      Entry earlier = values.put(section + "." + key, new Entry(section, key, line.substring(eq + 1).strip(), i + 1));
      if (earlier != null) {
        throw new IllegalArgumentException(source + ":" + (i + 1) + ": [" + section + "] " + key
            + " is set twice (first on line " + earlier.line() + "); keep one");
      }
    }
    return new IniFile(source, values, sections);
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
    return entry(section, key).map(Entry::value);
  }

  /** The line setting {@code key} in {@code section}, if the file has one. */
  Optional<Entry> entry(String section, String key) {
    return Optional.ofNullable(values.get(section.toLowerCase() + "." + key.toLowerCase()));
  }

  /** Every {@code key = value} line, in the file's order. */
  Iterable<Entry> entries() {
    return values.values();
  }

  /** Every section, lower-case, with the line of its first header. */
  Map<String, Integer> sections() {
    return sections;
  }

  /** {@code file:line}, the prefix of a message about that line. */
  String at(int line) {
    return source + ":" + line;
  }
}
