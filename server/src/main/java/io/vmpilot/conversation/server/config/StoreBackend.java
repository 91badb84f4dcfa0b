package io.vmpilot.conversation.server.config;

import java.util.Locale;

/** Where the server keeps conversations ({@code [database] backend}). */
public enum StoreBackend {
  /** One SQLite file: one server per file. */
  SQLITE,
  /** This process's memory: lost on restart. */
  MEMORY,
  /** A PostgreSQL database, which any number of servers may share. */
  POSTGRES;

  /** The name in the config file, flags and logs. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The backend {@code value} names; {@code origin} is where the value was written, for the error. */
  static StoreBackend parse(String value, SettingOrigin origin) {
    for (StoreBackend b : values()) {
      if (b.configName().equals(value.strip().toLowerCase(Locale.ROOT))) {
        return b;
      }
    }
    throw new IllegalArgumentException(origin.describe(" must be sqlite, memory or postgres, not '" + value + "'"));
  }
}
