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

  /**
   * Where this source took {@code option}'s value from, as a message about it should name it: the environment
   * variable, or the config file's line; empty when it supplied none (the value is the flag's or the default).
   */
  Optional<SettingOrigin> origin(OptionSpec option) {
    Optional<Setting> setting = Setting.of(option.descriptionKey());
    if (setting.isEmpty()) {
      return Optional.empty();
    }
    Setting s = setting.get();
    if (environment.containsKey(s.environmentVariable())) {
      return Optional.of(SettingOrigin.environment(s.environmentVariable()));
    }
    return file.entry(s.section(), s.key()).map(e -> SettingOrigin.file(file.at(e.line()), s.toString()));
  }
}
