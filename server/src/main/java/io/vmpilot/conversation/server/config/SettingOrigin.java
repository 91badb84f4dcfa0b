package io.vmpilot.conversation.server.config;

/**
 * Where a setting's value came from, so that an error about the value sends the reader to the place to fix it: a
 * flag ({@code --port}), an environment variable, or a line of the config file.
 *
 * @param where {@code file:line} for a value from the config file, else null
 * @param name how the setting is called there: {@code --port}, {@code environment variable VMPILOT_SERVER_PORT},
 *     {@code [server] port}
 */
record SettingOrigin(String where, String name) {
  static SettingOrigin flag(String option) {
    return new SettingOrigin(null, option);
  }

  static SettingOrigin environment(String variable) {
    return new SettingOrigin(null, "environment variable " + variable);
  }

  static SettingOrigin file(String fileAndLine, String setting) {
    return new SettingOrigin(fileAndLine, setting);
  }

  /** A message about the value: {@code config.ini:5: [server] port must be ...} for {@code " must be ..."}. */
  String describe(String rest) {
    return (where == null ? "" : where + ": ") + name + rest;
  }
}
