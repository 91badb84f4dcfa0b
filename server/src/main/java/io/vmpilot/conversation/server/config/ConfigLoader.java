package io.vmpilot.conversation.server.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Builds the command line whose defaults come from the environment and the config file, after refusing what the
 * file or the environment would otherwise slip in unnoticed: an unknown key or section of the server's, a
 * misspelt {@code VMPILOT_} variable ({@link ConfigFileCheck}) and a value of the wrong type, each named where it
 * was written.
 */
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
    ConfigFileCheck check = ConfigFileCheck.of(cl.getCommandSpec());
    check.check(ini);
    check.checkEnvironment(environment);
    SettingSource source = new SettingSource(ini, environment);
    checkValues(source);
    cl.setDefaultValueProvider(source);
    return cl;
  }

  /**
   * Converts every value the environment and the file supply, on a command line of its own with no arguments, so
   * that a value of the wrong type is reported where it was written ({@code config.ini:3: [server] port: 'lots'
   * is not an int}) rather than as if it had been a flag, as picocli would say.
   */
  private static void checkValues(SettingSource source) {
    CommandLine dryRun = new CommandLine(new ServerOptions());
    dryRun.setDefaultValueProvider(source);
    try {
      dryRun.parseArgs();
    } catch (CommandLine.ParameterException e) {
      if (!(e.getArgSpec() instanceof OptionSpec option)) {
        throw e;
      }
      Optional<SettingOrigin> origin = source.origin(option);
      if (origin.isEmpty()) {
        throw e;
      }
      String reason = e.getCause() instanceof CommandLine.TypeConversionException conversion
          ? conversion.getMessage() : e.getMessage();
      throw new IllegalArgumentException(origin.get().describe(": " + reason), e);
    }
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
