package io.vmpilot.conversation.server.config;

import java.util.Optional;

/**
 * Where an option lives in the config file and the environment. Each option names its place as
 * {@code descriptionKey = "section.key"}: {@code --database-path} is {@code database.path}, so the file's
 * {@code [database] path} and the environment's {@code VMPILOT_DATABASE_PATH}.
 */
record Setting(String section, String key) {

  static Optional<Setting> of(String descriptionKey) {
    int dot = descriptionKey == null ? -1 : descriptionKey.indexOf('.');
    if (dot <= 0) {
      return Optional.empty();
    }
    return Optional.of(new Setting(descriptionKey.substring(0, dot), descriptionKey.substring(dot + 1)));
  }

  String environmentVariable() {
    return ("VMPILOT_" + section + "_" + key).toUpperCase();
  }

  @Override
  public String toString() {
    return "[" + section + "] " + key;
  }
}
