package io.vmpilot.conversation.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerVariantTest {
  @Test
  void readsServerArgumentsAndWatchers() {
    ServerVariant v = ServerVariant.parse("watched-noindex:--search-index=false, watchers=4");
    assertThat(v.label()).isEqualTo("watched-noindex");
    assertThat(v.serverArgs()).containsExactly("--search-index=false");
    assertThat(v.watchers()).isEqualTo(4);
    assertThat(v.qualify("full")).isEqualTo("full/watched-noindex");
  }

  @Test
  void baseLeavesTheResultsUnqualified() {
    ServerVariant v = ServerVariant.parse("base");
    assertThat(v.serverArgs()).isEqualTo(List.of());
    assertThat(v.qualify("full")).isEqualTo("full");
  }

  @Test
  void refusesWhatIsNeitherAnArgumentNorWatchers() {
    assertThatThrownBy(() -> ServerVariant.parse("x:search-index=false")).hasMessageContaining("server argument");
    assertThatThrownBy(() -> ServerVariant.parse("bad label:--a=b")).hasMessageContaining("label");
    assertThatThrownBy(() -> ServerVariant.parse("w:watchers=-1")).hasMessageContaining("0 or more");
  }

  @Test
  void runsAnotherBuildsJarWhenOneIsNamed(@TempDir Path dir) throws Exception {
    Path jar = Files.writeString(dir.resolve("old.jar"), "");
    assertThat(ServerVariant.parse("old:jar=" + jar).jar()).isEqualTo(jar);
    assertThat(ServerVariant.parse("base").jar()).isNull();
    assertThatThrownBy(() -> ServerVariant.parse("old:jar=" + dir.resolve("missing.jar")))
        .hasMessageContaining("no server jar");
  }
}
