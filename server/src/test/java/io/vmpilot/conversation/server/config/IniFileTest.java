package io.vmpilot.conversation.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IniFileTest {
  @TempDir
  Path dir;

  @Test
  void readsVmpilotsConfigFormat() throws IOException {
    Path file = dir.resolve("config.ini");
    Files.writeString(file, String.join("\n",
        "; VMPilot configuration",
        "# a hash comment",
        "",
        "[database]",
        "enabled = true            ; false (the default) = in-memory",
        "path = /app/data/vmpilot.db",
        "",
        "  [ Server ]  ",
        "PORT = 6000 # inline hash comment",
        "bind=0.0.0.0",
        "url = http://host/page#anchor",
        "list = a;b;c",
        "equation = x = y",
        "empty =",
        "   indented = yes",
        "\t; indented comment",
        "[model]",
        "provider = anthropic"));
    IniFile ini = IniFile.read(file);

    assertThat(ini.get("database", "enabled")).contains("true");
    assertThat(ini.get("database", "path")).contains("/app/data/vmpilot.db");
    assertThat(ini.get("server", "port")).contains("6000");
    assertThat(ini.get("server", "bind")).contains("0.0.0.0");
    // ';' and '#' start a comment only at the start of a line or after white space.
    assertThat(ini.get("server", "url")).contains("http://host/page#anchor");
    assertThat(ini.get("server", "list")).contains("a;b;c");
    assertThat(ini.get("server", "equation")).contains("x = y");
    assertThat(ini.get("server", "empty")).contains("");
    assertThat(ini.get("server", "indented")).contains("yes");
    assertThat(ini.get("model", "provider")).contains("anthropic");
    assertThat(ini.get("database", "port")).isEmpty();
    assertThat(ini.get("nosuch", "path")).isEmpty();
  }

  @Test
  void sectionAndKeyNamesAreCaseInsensitive() {
    IniFile ini = IniFile.parse(List.of("[DataBase]", "Path = /Mixed/Case"), "test");
    assertThat(ini.get("database", "path")).contains("/Mixed/Case");
    assertThat(ini.get("DATABASE", "PATH")).contains("/Mixed/Case");
    assertThat(ini.get("Database", "pAtH")).contains("/Mixed/Case");
  }

  @Test
  void aKeySetTwiceIsRefusedWithBothLines() {
    // As Python's configparser (VMPilot's reader) refuses it; the same section may be opened again.
    assertThatThrownBy(() -> IniFile.parse(List.of("[server]", "port = 1", "[SERVER]", "PORT = 2"), "my.ini"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("my.ini:4")
        .hasMessageContaining("[server] port is set twice (first on line 2)");
    IniFile reopened = IniFile.parse(List.of("[server]", "port = 1", "[database]", "enabled = true", "[server]",
        "bind = 0.0.0.0"), "test");
    assertThat(reopened.get("server", "port")).contains("1");
    assertThat(reopened.get("server", "bind")).contains("0.0.0.0");
  }

  @Test
  void malformedLinesAreReportedWithFileAndLine() {
    assertThatThrownBy(() -> IniFile.parse(List.of("[database]", "enabled true"), "my.ini"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("my.ini:2")
        .hasMessageContaining("enabled true");
    assertThatThrownBy(() -> IniFile.parse(List.of("key = value before any section"), "my.ini"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("my.ini:1");
    assertThatThrownBy(() -> IniFile.parse(List.of("[server]", "= 5"), "my.ini"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("my.ini:2");
    assertThatThrownBy(() -> IniFile.parse(List.of("[server", "port = 5"), "my.ini"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("my.ini:1");
  }

  @Test
  void emptyFileAndEmptyIniHaveNothing() throws IOException {
    Path file = dir.resolve("empty.ini");
    Files.writeString(file, "; nothing here\n\n");
    assertThat(IniFile.read(file).get("database", "path")).isEmpty();
    assertThat(IniFile.empty().get("database", "path")).isEmpty();
  }
}
