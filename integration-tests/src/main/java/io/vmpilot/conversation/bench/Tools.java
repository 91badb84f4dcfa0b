package io.vmpilot.conversation.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the repository's pinned tools are ({@code .tools}, made by scripts/install-tools). */
final class Tools {
  private Tools() {}

  /**
   * The repository root: the {@code repo.root} system property (scripts/bench and the Maven build set it), else the
   * nearest directory from here up that holds {@code .tools}, else the working directory.
   */
  static Path repoRoot() {
    String property = System.getProperty("repo.root");
    if (property != null) {
      return Path.of(property).toAbsolutePath().normalize();
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve(".tools"))) {
        return p;
      }
    }
    return Path.of("").toAbsolutePath();
  }

  static Path tool(String relative) {
    return repoRoot().resolve(".tools").resolve(relative);
  }
}
