package io.vmpilot.conversation.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The README's Java example is the compiled {@code io.vmpilot.conversation.example.Example}: the README's
 * {@code java} block under "### Java" holds exactly the file's lines between its readme-example markers.
 */
class ReadmeJavaExampleTest {
  private static final Path ROOT = Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();

  @Test
  void theReadmesJavaBlockIsTheCompiledExample() throws IOException {
    String source = Files.readString(ROOT.resolve("client/src/test/java/io/vmpilot/conversation/example/Example.java"));
    String start = "// readme-example:start\n";
    String region = source.substring(source.indexOf(start) + start.length(), source.indexOf("// readme-example:end"));

    String readme = Files.readString(ROOT.resolve("README.md"));
    int section = readme.indexOf("\n### Java\n");
    assertThat(section).as("README has a '### Java' section").isPositive();
    int block = readme.indexOf("```java\n", section) + "```java\n".length();
    assertThat(readme.indexOf("\n## ", section)).as("the java block is in the Java section").isGreaterThan(block);
    String shown = readme.substring(block, readme.indexOf("```\n", block));

    assertThat(shown).as("README's Java example (edit Example.java, then copy its marked region)").isEqualTo(region);
  }
}
