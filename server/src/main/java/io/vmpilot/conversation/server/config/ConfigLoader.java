package io.vmpilot.conversation.server.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;

/** Builds the command line whose defaults come from the environment and the config file. */
public final class ConfigLoader {
  static final Path DEFAULT_CONFIG = Path.of("config.ini");

  private ConfigLoader() {}

  /** A command line for {@code options} that reads defaults from the file named by {@code --config}. */
  public static CommandLine commandLine(ServerOptions options, String[] args, Map<String, String> environment) {
    Path configFile = configFile(args);
    IniFile ini;
    try {
      ini = configFile == null ? IniFile.empty() : IniFile.read(configFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read config file " + configFile + ": " + e.getMessage(), e);
    }
    CommandLine cl = new CommandLine(options);
    cl.setDefaultValueProvider(new SettingSource(ini, environment));
    return cl;
  }

  /**
   * The config file: the one {@code --config} names (it must exist), else {@code ./config.ini} if present.
   * Read before the real parse because the file supplies the other options' defaults.
   */
  public static Path configFile(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String named = null;
      if (args[i].equals("--config") && i + 1 < args.length) {
        named = args[i + 1];
      } else if (args[i].startsWith("--config=")) {
        named = args[i].substring("--config=".length());
      }
      if (named != null) {
        return ServerOptions.expandHome(named);
      }
    }
    return Files.isRegularFile(DEFAULT_CONFIG) ? DEFAULT_CONFIG : null;
  }
}
