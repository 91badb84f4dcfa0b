package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web viewer in a real browser: Debian's Chromium driven by playwright-core (both installed by
 * {@code scripts/install-tools}), with node's test runner running {@code integration-tests/viewer/*.test.mjs}
 * against two real server processes, one without authentication (SQLite) and one with it. Screenshots are kept in
 * {@code integration-tests/target/viewer-artifacts}.
 */
class ViewerBrowserIT {
  private static final String TOKEN = "viewer-alice-Zr8uT3kW5nQ1";
  private static final List<String> TEST_FILES = List.of(
      "integration-tests/viewer/unit/messages.test.mjs",
      "integration-tests/viewer/viewer.test.mjs",
      "integration-tests/viewer/auth.test.mjs");

  @Test
  void viewerTestsPassInChromium(@TempDir Path dir) throws Exception {
    Path root = ExternalCommand.repoRoot();
    assertThat(root.resolve("integration-tests/viewer/node_modules/playwright-core"))
        .as("playwright-core; run scripts/install-tools").isDirectory();
    assertThat(Path.of("/usr/bin/chromium")).as("Debian's chromium; run scripts/install-tools").isExecutable();
    Path artifacts = root.resolve("integration-tests/target/viewer-artifacts");
    Files.createDirectories(artifacts);

    try (ServerProcess open = ServerProcess.startSqlite(dir.resolve("viewer.db"), "--http-port", "0");
        ServerProcess withAuth = ServerProcess.start(List.of("--database-enabled", "false", "--http-port", "0",
            "--auth-enabled", "true"), null, Map.of("VMPILOT_AUTH_TOKENS", "alice=" + TOKEN))) {
      String[] command = new String[3 + TEST_FILES.size()];
      command[0] = "node";
      command[1] = "--test";
      command[2] = "--test-reporter=spec";
      for (int i = 0; i < TEST_FILES.size(); i++) {
        command[3 + i] = TEST_FILES.get(i);
      }
      ExternalCommand r = ExternalCommand.run(10, Map.of(
          "VIEWER_URL", open.httpUrl(),
          "VIEWER_AUTH_URL", withAuth.httpUrl(),
          "VIEWER_TOKEN", TOKEN,
          "VIEWER_ARTIFACTS", artifacts.toString()), command);
      assertThat(r.exitCode()).as(r.output()).isZero();
      assertThat(figure(r.output(), "ℹ fail (\\d+)")).as(r.output()).isZero();
      long tests = figure(r.output(), "ℹ tests (\\d+)");
      assertThat(tests).as("every test file ran").isGreaterThanOrEqualTo(15);
      assertThat(figure(r.output(), "ℹ pass (\\d+)")).as(r.output()).isEqualTo(tests);
    }
    assertThat(artifacts.resolve("conversation.png")).isNotEmptyFile();
    assertThat(artifacts.resolve("xss-list.png")).isNotEmptyFile();
  }

  private static long figure(String output, String regex) {
    Matcher m = Pattern.compile(regex).matcher(output);
    assertThat(m.find()).as("node printed %s:%n%s", regex, output).isTrue();
    return Long.parseLong(m.group(1));
  }
}
