package io.vmpilot.conversation.testing.postgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where PostgreSQL's programs are: the directory named by the environment variable {@code POSTGRES_BIN}, else the
 * newest {@code /usr/lib/postgresql/NN/bin} (Debian's layout, which puts only wrappers on the PATH).
 */
public record PostgresBinaries(Path directory) {
  public static final String ENVIRONMENT_VARIABLE = "POSTGRES_BIN";
  private static final Path DEBIAN_ROOT = Path.of("/usr/lib/postgresql");

  public static PostgresBinaries find() {
    String named = System.getenv(ENVIRONMENT_VARIABLE);
    if (named != null && !named.isBlank()) {
      PostgresBinaries binaries = new PostgresBinaries(Path.of(named));
      if (!binaries.complete()) {
        throw new IllegalStateException(ENVIRONMENT_VARIABLE + "=" + named + " has no initdb, pg_ctl and psql");
      }
      return binaries;
    }
    return newestDebianInstallation().orElseThrow(() -> new IllegalStateException(
        "PostgreSQL is not installed (no " + DEBIAN_ROOT + "/NN/bin/initdb): run scripts/install-postgres, or set "
            + ENVIRONMENT_VARIABLE + " to the directory of initdb and pg_ctl"));
  }

  private static Optional<PostgresBinaries> newestDebianInstallation() {
    if (!Files.isDirectory(DEBIAN_ROOT)) {
      return Optional.empty();
    }
    try (Stream<Path> versions = Files.list(DEBIAN_ROOT)) {
      return versions
          .filter(p -> p.getFileName().toString().matches("\\d+"))
          .sorted(Comparator.comparingInt((Path p) -> Integer.parseInt(p.getFileName().toString())).reversed())
          .map(p -> new PostgresBinaries(p.resolve("bin")))
          .filter(PostgresBinaries::complete)
          .findFirst();
    } catch (IOException e) {
      throw new IllegalStateException("cannot list " + DEBIAN_ROOT + ": " + e.getMessage(), e);
    }
  }

  private boolean complete() {
    return Stream.of("initdb", "pg_ctl", "postgres", "psql").allMatch(p -> Files.isExecutable(program(p)));
  }

  public Path program(String name) {
    return directory.resolve(name);
  }
}
