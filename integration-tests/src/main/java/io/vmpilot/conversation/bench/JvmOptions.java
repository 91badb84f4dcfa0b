package io.vmpilot.conversation.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The server's JVM options as {@code --server-jvm-opts} gives them: separated by white space, each {@code @file} (a
 * java argument file such as {@code scripts/server-jvm.options}, relative to the repository) read in its place, so
 * that the results record the options themselves and the memory backend's {@code -Xmx} can replace the file's.
 */
final class JvmOptions {
  private JvmOptions() {}

  static List<String> parse(String options, Path root) throws IOException {
    List<String> parsed = new ArrayList<>();
    for (String option : words(options)) {
      if (option.startsWith("@")) {
        for (String line : Files.readAllLines(root.resolve(option.substring(1)))) {
          // As java reads an argument file: '#' starts a comment that runs to the end of the line.
          int comment = line.indexOf('#');
          parsed.addAll(words(comment < 0 ? line : line.substring(0, comment)));
        }
      } else {
        parsed.add(option);
      }
    }
    return parsed;
  }

  private static List<String> words(String text) {
    return text.isBlank() ? List.of() : Arrays.asList(text.strip().split("\\s+"));
  }
}
