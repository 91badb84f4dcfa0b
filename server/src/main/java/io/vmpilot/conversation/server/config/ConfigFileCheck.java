package io.vmpilot.conversation.server.config;

import io.vmpilot.conversation.server.auth.TenantTokens;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Refuses a {@code config.ini} line or an environment variable the server would otherwise ignore without a word: a key it does not know in one
 * of its own sections ({@code [database] pathh}), or a section whose name is a near miss of one of its own
 * ({@code [databse]}). Any other section is left alone: the file may be VMPilot's own, whose other sections
 * ({@code [model]}, {@code [general]}, ...) belong to other programs. The known sections and keys are read from the
 * options themselves (their {@code descriptionKey}), so a new setting is known here as soon as it exists.
 */
final class ConfigFileCheck {
  /** Variables the server reads that are not options: secrets, which never go on a command line. */
  private static final Set<String> SECRET_VARIABLES =
      Set.of(TenantTokens.ENVIRONMENT_VARIABLE, DatabaseBackendOptions.PASSWORD_VARIABLE);

  private final Map<String, Set<String>> known;

  private ConfigFileCheck(Map<String, Set<String>> known) {
    this.known = known;
  }

  /** The sections and keys of {@code spec}'s options. */
  static ConfigFileCheck of(CommandSpec spec) {
    Map<String, Set<String>> known = new TreeMap<>();
    for (OptionSpec option : spec.options()) {
      Setting.of(option.descriptionKey())
          .ifPresent(s -> known.computeIfAbsent(s.section(), k -> new TreeSet<>()).add(s.key()));
    }
    return new ConfigFileCheck(known);
  }

  /**
   * Throws {@link IllegalArgumentException} naming {@code file:line} for the first line (in the file's order) the
   * server refuses.
   */
  void check(IniFile file) {
    int firstLine = Integer.MAX_VALUE;
    String problem = null;
    for (Map.Entry<String, Integer> section : file.sections().entrySet()) {
      String name = section.getKey();
      Optional<String> near = known.containsKey(name) ? Optional.empty() : nearest(name, known.keySet());
      if (near.isPresent() && section.getValue() < firstLine) {
        firstLine = section.getValue();
        problem = file.at(firstLine) + ": unknown section [" + name + "]; did you mean [" + near.get()
            + "]? (the server's sections are " + sections() + ")";
      }
    }
    for (IniFile.Entry entry : file.entries()) {
      Set<String> keys = known.get(entry.section());
      if (keys == null || keys.contains(entry.key()) || entry.line() >= firstLine) {
        continue;
      }
      firstLine = entry.line();
      String message = file.at(firstLine) + ": unknown key '" + entry.key() + "' in [" + entry.section() + "]";
      Optional<String> near = nearest(entry.key(), keys);
      problem = near.isPresent()
          ? message + "; did you mean '" + near.get() + "'?"
          : message + " (its keys are " + String.join(", ", keys) + ")";
    }
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
  }

  /**
   * Throws {@link IllegalArgumentException} for a {@code VMPILOT_} variable that is a near miss of one the server
   * reads ({@code VMPILOT_DATABSE_PATH}), which would otherwise leave the setting at its default without a word.
   * Other {@code VMPILOT_} variables are left alone: convctl's ({@code VMPILOT_STORE_ADDRESS}) and VMPilot's own
   * may be set in the same shell.
   */
  void checkEnvironment(Map<String, String> environment) {
    Set<String> variables = new TreeSet<>(SECRET_VARIABLES);
    known.forEach((section, keys) -> keys.forEach(key -> variables.add(new Setting(section, key).environmentVariable())));
    for (String name : new TreeSet<>(environment.keySet())) {
      if (!name.startsWith("VMPILOT_") || variables.contains(name)) {
        continue;
      }
      Optional<String> near = nearest(name, variables);
      if (near.isPresent()) {
        throw new IllegalArgumentException("environment variable " + name + " is not one the server reads; did you"
            + " mean " + near.get() + "?");
      }
    }
  }

  private String sections() {
    return String.join(", ", known.keySet().stream().map(s -> "[" + s + "]").toList());
  }

  /**
   * The candidate {@code name} is most likely a typo of: at most one edit away for names of up to five letters,
   * two for longer ones (an edit: a letter added, dropped, changed, or two neighbours swapped).
   */
  static Optional<String> nearest(String name, Collection<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : candidates) {
      int distance = distance(name, candidate);
      if (distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
    int allowed = Math.max(name.length(), best == null ? 0 : best.length()) <= 5 ? 1 : 2;
    return best != null && bestDistance > 0 && bestDistance <= allowed ? Optional.of(best) : Optional.empty();
  }

  /** Optimal string alignment distance (Levenshtein with swaps of neighbours). */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }
}
