package io.vmpilot.conversation.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The README's configuration table is the picocli model of {@link ServerOptions}: one row per option, in the
 * form {@code | `--flag` | `[section] key` | `VMPILOT_SECTION_KEY` | default | meaning |}. The config and
 * environment cells are what {@link Setting} derives from the option's descriptionKey (both empty for an option
 * that has none); the default cell starts with {@code `value`} when the option declares a default value, and with
 * no back-quoted value when it does not (a default computed at start-up, "none", "off"). A row naming no option
 * is stale and fails the test too.
 */
class ReadmeConfigurationTableTest {
  private static final Path ROOT = Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();

  @Test
  void everyOptionHasItsRowWithKeyEnvironmentVariableAndDefaultAndNoRowIsStale() throws IOException {
    Map<String, List<String>> rows = readmeRows();
    List<String> problems = new ArrayList<>();
    List<String> flags = new ArrayList<>();
    for (OptionSpec option : new CommandLine(new ServerOptions()).getCommandSpec().options()) {
      if (option.usageHelp() || option.versionHelp()) {
        continue;
      }
      String flag = option.longestName();
      flags.add(flag);
      List<String> cells = rows.get(flag);
      if (cells == null) {
        problems.add(flag + ": no row in the README's configuration table");
        continue;
      }
      Optional<Setting> setting = Setting.of(option.descriptionKey());
      String file = setting.map(s -> "`" + s + "`").orElse("");
      String environment = setting.map(s -> "`" + s.environmentVariable() + "`").orElse("");
      if (!cells.get(1).equals(file)) {
        problems.add(flag + ": config.ini cell is '" + cells.get(1) + "', expected '" + file + "'");
      }
      if (!cells.get(2).equals(environment)) {
        problems.add(flag + ": environment cell is '" + cells.get(2) + "', expected '" + environment + "'");
      }
      String defaultCell = cells.get(3);
      if (option.defaultValue() != null) {
        if (!defaultCell.startsWith("`" + option.defaultValue() + "`")) {
          problems.add(flag + ": default cell is '" + defaultCell + "', expected it to start with `"
              + option.defaultValue() + "`");
        }
      } else if (defaultCell.startsWith("`")) {
        problems.add(flag + ": declares no default value, but the README's default cell names one: " + defaultCell);
      }
    }
    for (String flag : rows.keySet()) {
      if (!flags.contains(flag)) {
        problems.add(flag + ": a README row for an option ServerOptions does not have");
      }
    }
    assertThat(problems).as("README configuration table against ServerOptions").isEmpty();
  }

  /** The rows of the table under "## Configuration", by flag: each row's cells, the flag's back-quotes removed. */
  private static Map<String, List<String>> readmeRows() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    int start = readme.indexOf("\n## Configuration\n");
    assertThat(start).as("README has a '## Configuration' section").isPositive();
    int end = readme.indexOf("\n## ", start + 1);
    Map<String, List<String>> rows = new LinkedHashMap<>();
    for (String line : readme.substring(start, end < 0 ? readme.length() : end).split("\n")) {
      if (!line.startsWith("| `--")) {
        continue;
      }
      List<String> cells = new ArrayList<>();
      for (String cell : line.substring(1, line.lastIndexOf('|')).split("\\|", -1)) {
        cells.add(cell.strip());
      }
      assertThat(cells).as("a configuration row of five cells: %s", line).hasSize(5);
      String flag = cells.get(0).replaceAll("^`(--[a-z0-9-]+)`.*$", "$1");
      assertThat(rows.put(flag, cells)).as("one row per option: %s", flag).isNull();
    }
    assertThat(rows).as("configuration rows in the README").isNotEmpty();
    return rows;
  }
}
