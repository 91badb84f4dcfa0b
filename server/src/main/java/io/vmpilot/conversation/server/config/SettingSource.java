package io.vmpilot.conversation.server.config;

import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Supplies an option's value when it is not on the command line: first from the environment variable
 * {@code VMPILOT_<SECTION>_<KEY>}, then from {@code [section] key} of the config file. Options left unset by
 * both keep their built-in default. So the order of precedence is: flag, environment, file, default.
 */
final class SettingSource implements IDefaultValueProvider {
  private final IniFile file;
  private final Map<String, String> environment;

  SettingSource(IniFile file, Map<String, String> environment) {
    this.file = file;
    this.environment = environment;
  }

  @Override
  public String defaultValue(ArgSpec argSpec) {
    if (!(argSpec instanceof OptionSpec option)) {
      return null;
    }
    Optional<Setting> setting = Setting.of(option.descriptionKey());
    if (setting.isEmpty()) {
      return null;
    }
    Setting s = setting.get();
    String fromEnvironment = environment.get(s.environmentVariable());
    if (fromEnvironment != null) {
      return fromEnvironment;
    }
    return file.get(s.section(), s.key()).orElse(null);
  }
}
