package io.vmpilot.conversation.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The proto's file comment (of any .proto file of the contract) lists every {@code google.rpc.ErrorInfo} reason the server sends, and every metadata
 * key, so that a client in another language can match them without reading this code. The reasons and keys are
 * the string literals of the server's sources that build an ErrorInfo (upper-case literals are reasons, the
 * lower-case first arguments of {@code Map.of} metadata keys); a listed reason that no source sends is stale.
 */
class ProtoErrorReasonsTest {
  private static final Path ROOT = Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
  private static final Path PROTOS = ROOT.resolve("proto/vmpilot");
  private static final Pattern REASON_LITERAL = Pattern.compile("\"([A-Z][A-Z0-9_]{3,})\"");
  private static final Pattern METADATA_KEY = Pattern.compile("(?:Map\\.of\\(|,)\\s*\"([a-z][a-z0-9_]*)\",");
  private static final Pattern LISTED_REASON = Pattern.compile("(?m)^//   ([A-Z][A-Z0-9_]+) +[A-Z_]+ ");

  @Test
  void everyReasonAndMetadataKeyTheServerSendsIsListedInTheProtoAndNoListedReasonIsStale() throws IOException {
    Set<String> reasons = new TreeSet<>();
    Set<String> keys = new TreeSet<>();
    for (String source : errorInfoSources()) {
      REASON_LITERAL.matcher(source).results().forEach(m -> reasons.add(m.group(1)));
      METADATA_KEY.matcher(source).results().forEach(m -> keys.add(m.group(1)));
    }
    assertThat(reasons).as("reasons found in the server's sources").contains("VERSION_MISMATCH", "INVALID_TOKEN");
    assertThat(keys).as("metadata keys found in the server's sources").contains("current_version", "thread_id");

    String fileComment = protoFileComments();
    Set<String> listed = new TreeSet<>();
    Matcher m = LISTED_REASON.matcher(fileComment);
    while (m.find()) {
      listed.add(m.group(1));
    }
    assertThat(listed).as("reasons listed in the proto's file comment").containsAll(reasons);
    assertThat(reasons).as("listed reasons the server sends (a listed one it does not send is stale)")
        .containsAll(listed);
    for (String key : keys) {
      assertThat(fileComment).as("the proto lists the ErrorInfo metadata key %s", key).containsPattern("\\b" + key + "\\b");
    }
  }

  /** The comments above {@code syntax} of every .proto file of the contract (a service may list its own). */
  private static String protoFileComments() throws IOException {
    try (Stream<Path> files = Files.walk(PROTOS)) {
      StringBuilder comments = new StringBuilder();
      files.filter(p -> p.toString().endsWith(".proto")).sorted().map(ProtoErrorReasonsTest::read)
          .forEach(proto -> comments.append(proto, 0, Math.max(0, proto.indexOf("syntax = "))));
      return comments.toString();
    }
  }

  private static List<String> errorInfoSources() throws IOException {
    try (Stream<Path> files = Files.walk(ROOT.resolve("server/src/main/java"))) {
      return files.filter(p -> p.toString().endsWith(".java")).map(ProtoErrorReasonsTest::read)
          .filter(s -> s.contains("ErrorInfo.newBuilder"))
          .toList();
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
