package io.vmpilot.conversation.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One configuration of the server to measure beside others in the same run ({@code --variant}), so that the cost
 * of a feature (the search index, retention's sweep, watchers) or of a change (another build's jar) shows in
 * alternating rounds on the same noise.
 *
 * @param label how the results name it (after the durability, e.g. {@code full/noindex})
 * @param serverArgs extra arguments for the server
 * @param watchers tenant-wide Watch streams the benchmark keeps open and drains while it measures
 * @param jar another build of the server to run instead of the default jar, or null for the default
 */
record ServerVariant(String label, List<String> serverArgs, int watchers, Path jar) {
  static final ServerVariant BASE = new ServerVariant("", List.of(), 0, null);

  ServerVariant {
    serverArgs = List.copyOf(serverArgs);
  }

  /**
   * {@code LABEL} or {@code LABEL:ITEM,ITEM,...}, each item a server argument ({@code --search-index=false}) or
   * {@code watchers=N} or {@code jar=PATH} (another build, e.g. the previous commit's, to compare a change
   * with). {@code base} alone is the server as configured otherwise.
   */
  static ServerVariant parse(String text) {
    String t = text.strip();
    int colon = t.indexOf(':');
    String label = colon < 0 ? t : t.substring(0, colon).strip();
    if (!label.matches("[A-Za-z0-9_.+-]{1,32}")) {
      throw new IllegalArgumentException("a variant's label is 1 to 32 letters, digits or _.+-, not '" + label + "'");
    }
    List<String> args = new ArrayList<>();
    int watchers = 0;
    Path jar = null;
    if (colon >= 0) {
      for (String item : t.substring(colon + 1).split(",")) {
        String i = item.strip();
        if (i.isEmpty()) {
          continue;
        }
        if (i.startsWith("watchers=")) {
          watchers = Integer.parseInt(i.substring("watchers=".length()));
          if (watchers < 0) {
            throw new IllegalArgumentException("watchers must be 0 or more, not " + watchers);
          }
        } else if (i.startsWith("jar=")) {
          jar = Path.of(i.substring("jar=".length()));
          if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("no server jar at " + jar);
          }
        } else if (i.startsWith("--")) {
          args.add(i);
        } else {
          throw new IllegalArgumentException("a variant's item is a server argument (--name=value), watchers=N or"
              + " jar=PATH, not '" + i + "'");
        }
      }
    }
    return new ServerVariant(label, args, watchers, jar);
  }

  /** The durability column's text for this variant's results. */
  String qualify(String durability) {
    return label.isEmpty() || label.equals("base") ? durability : durability + "/" + label;
  }
}
