package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's grpcurl examples, run as a reader would run them: every command of every {@code bash} block
 * between the {@code grpcurl-examples} markers, in the README's order, in one shell started at the repository
 * root (so the README's {@code export PATH=...} is what finds the pinned grpcurl), against a fresh server.
 *
 * <p>Every command must be preceded by its documented outcome, a comment {@code # -> CODE [REASON] [CHECK]}:
 * CODE is the gRPC status (grpcurl exits 0 for OK, 64 + the code otherwise); REASON, for an error, the
 * ErrorInfo reason the output must show; CHECK either a JSON object that must be a subset of the printed
 * response, or quoted strings the output must contain. Keys are compared without their spelling (thread_id and
 * threadId alike), since grpcurl prints proto names or JSON names depending on where its descriptors come from.
 * A command without an outcome, or a line that is neither a command, a variable nor a comment, fails the test,
 * so nothing in the section goes unchecked.
 */
class ReadmeGrpcurlIT {
  private static final Pattern OUTCOME = Pattern.compile("^# -> ([A-Z_]+)(?: ([A-Z][A-Z0-9_]+))?(?: (.+))?$");
  private static final Pattern ASSIGNMENT = Pattern.compile("^(export )?[A-Z_]+=.*$");
  private static final Pattern QUOTED = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** One command of the README with its documented outcome. */
  record Example(int index, String command, Status.Code code, String reason, String check) {}

  @Test
  void everyGrpcurlExampleOfTheReadmeGivesItsDocumentedOutcomeWhenRunInOrder(@TempDir Path dir) throws Exception {
    assertThat(ExternalCommand.repoRoot().resolve(".tools/bin/grpcurl"))
        .as("the pinned grpcurl the README puts on the PATH; run scripts/install-tools").exists();
    List<String> script = new ArrayList<>();
    List<Example> examples = parse(readmeSection(), script);
    assertThat(examples).as("grpcurl examples in the README").hasSizeGreaterThanOrEqualTo(10);
    assertThat(examples.stream().map(Example::code)).as("the README shows an ABORTED example").contains(Status.Code.ABORTED);

    try (ServerProcess server = ServerProcess.startSqlite(dir.resolve("readme.db"))) {
      Path out = Files.createDirectories(dir.resolve("out"));
      List<String> lines = new ArrayList<>();
      lines.add("set -u");
      lines.add("OUT='" + out + "'");
      for (String line : script) {
        lines.add(line.startsWith("ADDR=") ? "ADDR=" + server.target() : line);
      }
      Path file = dir.resolve("readme-grpcurl.sh");
      Files.write(file, lines, StandardCharsets.UTF_8);
      ExternalCommand r = ExternalCommand.run(3, Map.of(), "bash", file.toString());
      assertThat(r.exitCode()).as(r.output()).isZero();

      List<String> failures = new ArrayList<>();
      for (Example e : examples) {
        String output = Files.readString(out.resolve(e.index() + ".out"));
        int exit = Integer.parseInt(Files.readString(out.resolve(e.index() + ".rc")).trim());
        String failure = check(e, exit, output);
        if (failure != null) {
          failures.add("example " + e.index() + ": " + failure + "\n  command: " + e.command() + "\n  output:\n" + output);
        }
      }
      assertThat(failures).as("README grpcurl examples whose outcome differs from the documented one").isEmpty();
    }
  }

  private static String readmeSection() throws IOException {
    String readme = Files.readString(ExternalCommand.repoRoot().resolve("README.md"));
    int start = readme.indexOf("<!-- grpcurl-examples:start");
    int end = readme.indexOf("<!-- grpcurl-examples:end -->");
    assertThat(start).as("README grpcurl-examples markers").isNotNegative().isLessThan(end);
    return readme.substring(start, end);
  }

  /**
   * The examples of the README's bash blocks; {@code script} receives the shell lines that run them, each
   * command's output and exit code going to {@code $OUT/N.out} and {@code $OUT/N.rc}.
   */
  static List<Example> parse(String section, List<String> script) {
    List<Example> examples = new ArrayList<>();
    String[] lines = section.split("\n", -1);
    boolean inBlock = false;
    Matcher pending = null;
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (!inBlock) {
        inBlock = line.equals("```bash");
        continue;
      }
      if (line.equals("```")) {
        inBlock = false;
        assertThat(pending).as("an outcome without a command before line: %s", line).isNull();
        continue;
      }
      Matcher outcome = OUTCOME.matcher(line);
      if (outcome.matches()) {
        pending = outcome;
      } else if (line.isBlank() || line.startsWith("#")) {
        continue;
      } else if (ASSIGNMENT.matcher(line).matches()) {
        script.add(line);
      } else if (line.startsWith("grpcurl ")) {
        assertThat(pending).as("README grpcurl command without a documented outcome (# -> CODE ...): %s", line)
            .isNotNull();
        StringBuilder command = new StringBuilder(line);
        if (line.contains("<<EOF")) {
          do {
            command.append('\n').append(lines[++i]);
          } while (!lines[i].equals("EOF"));
        } else {
          while (lines[i].endsWith("\\")) {
            command.append('\n').append(lines[++i]);
          }
        }
        int n = examples.size() + 1;
        script.add("{ " + command);
        script.add("} >\"$OUT/" + n + ".out\" 2>&1; echo $? >\"$OUT/" + n + ".rc\"");
        examples.add(new Example(n, command.toString(), Status.Code.valueOf(pending.group(1)), pending.group(2),
            pending.group(3)));
        pending = null;
      } else {
        throw new AssertionError("README grpcurl section: a line that is neither a grpcurl command, a variable "
            + "nor a comment: " + line);
      }
    }
    return examples;
  }

  /** Null if the output is what the README says, else what differs. */
  static String check(Example e, int exit, String output) {
    int expectedExit = e.code() == Status.Code.OK ? 0 : 64 + e.code().value();
    if (exit != expectedExit) {
      return "exit code " + exit + ", expected " + expectedExit + " (" + e.code() + ")";
    }
    if (e.reason() != null && !output.contains("\"reason\": \"" + e.reason() + "\"")) {
      return "no ErrorInfo reason " + e.reason();
    }
    if (e.check() == null) {
      return null;
    }
    if (e.check().startsWith("{")) {
      JsonElement actual;
      try {
        actual = JsonParser.parseString(output);
      } catch (JsonParseException notJson) {
        return "the output is not one JSON value";
      }
      JsonElement expected = JsonParser.parseString(e.check());
      String difference = subset(normalised(expected), normalised(actual), "$");
      return difference == null ? null : difference;
    }
    Matcher quoted = QUOTED.matcher(e.check());
    boolean any = false;
    while (quoted.find()) {
      any = true;
      String text = quoted.group(1).replace("\\\"", "\"").replace("\\\\", "\\");
      if (!output.contains(text)) {
        return "the output lacks " + text;
      }
    }
    return any ? null : "the outcome's check is neither a JSON object nor quoted strings: " + e.check();
  }

  /** Null if every key and value of {@code expected} is in {@code actual}; arrays element by element. */
  private static String subset(JsonElement expected, JsonElement actual, String path) {
    if (expected.isJsonObject()) {
      if (!actual.isJsonObject()) {
        return path + ": expected an object, got " + actual;
      }
      for (Map.Entry<String, JsonElement> entry : expected.getAsJsonObject().entrySet()) {
        JsonElement value = actual.getAsJsonObject().get(entry.getKey());
        if (value == null) {
          return path + "." + entry.getKey() + ": missing";
        }
        String difference = subset(entry.getValue(), value, path + "." + entry.getKey());
        if (difference != null) {
          return difference;
        }
      }
      return null;
    }
    if (expected.isJsonArray()) {
      if (!actual.isJsonArray() || actual.getAsJsonArray().size() != expected.getAsJsonArray().size()) {
        return path + ": expected an array of " + expected.getAsJsonArray().size() + ", got " + actual;
      }
      for (int i = 0; i < expected.getAsJsonArray().size(); i++) {
        String difference = subset(expected.getAsJsonArray().get(i), actual.getAsJsonArray().get(i), path + "[" + i + "]");
        if (difference != null) {
          return difference;
        }
      }
      return null;
    }
    return expected.equals(actual) ? null : path + ": expected " + expected + ", got " + actual;
  }

  /** The same value with every object key spelt without underscores, in lower case. */
  private static JsonElement normalised(JsonElement value) {
    if (value.isJsonObject()) {
      JsonObject copy = new JsonObject();
      value.getAsJsonObject().entrySet()
          .forEach(e -> copy.add(e.getKey().replace("_", "").toLowerCase(), normalised(e.getValue())));
      return copy;
    }
    if (value.isJsonArray()) {
      JsonArray copy = new JsonArray();
      value.getAsJsonArray().forEach(v -> copy.add(normalised(v)));
      return copy;
    }
    return value;
  }
}
