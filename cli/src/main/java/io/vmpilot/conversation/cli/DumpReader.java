package io.vmpilot.conversation.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.vmpilot.conversation.v1.ConversationRecord;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Reads a dump line by line (memory: one line at a time), checking it as it goes: the header's format and
 * version, each line a {@code ConversationRecord} in the proto JSON mapping (unknown fields refused), the end
 * line's count, nothing after it. Any fault is a {@link DumpFormatException} naming the line.
 */
final class DumpReader {
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();

  /** What the header said. */
  record Header(int version, JsonObject source) {}

  private DumpReader() {}

  /** Reads every record of {@code in} into {@code sink} (each with its 1-based line number); returns the header. */
  static Header read(InputStream in, RecordSink sink) throws IOException {
    BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)), 1 << 16);
    long lineNumber = 0;
    Header header = null;
    Long declaredEnd = null;
    long records = 0;
    String line;
    while (true) {
      try {
        line = lines.readLine();
      } catch (CharacterCodingException e) {
        throw new DumpFormatException(lineNumber + 1, "is not valid UTF-8");
      }
      if (line == null) {
        break;
      }
      lineNumber++;
      if (declaredEnd != null) {
        throw new DumpFormatException(lineNumber, "follows the end line; the dump ends at line " + (lineNumber - 1));
      }
      if (lineNumber == 1) {
        header = header(line);
        continue;
      }
      JsonObject object = object(lineNumber, line);
      if (object.has("end")) {
        declaredEnd = endCount(lineNumber, object);
        if (declaredEnd != records) {
          throw new DumpFormatException(lineNumber, "the end line counts " + declaredEnd + " conversations but "
              + records + " precede it");
        }
        continue;
      }
      ConversationRecord.Builder record = ConversationRecord.newBuilder();
      try {
        PARSER.merge(line, record);
      } catch (InvalidProtocolBufferException e) {
        throw new DumpFormatException(lineNumber, "is not a conversation record: " + e.getMessage());
      }
      if (record.getThreadId().isEmpty()) {
        throw new DumpFormatException(lineNumber, "has no threadId");
      }
      records++;
      sink.accept(lineNumber, record.build());
    }
    if (header == null) {
      throw new DumpFormatException(1, "is missing: the file is empty, not a dump");
    }
    if (declaredEnd == null) {
      throw new DumpFormatException(lineNumber + 1, "is missing: the dump has no end line, it was cut short after "
          + records + " conversations");
    }
    return header;
  }

  /** Receives the records of a dump in order. */
  interface RecordSink {
    void accept(long lineNumber, ConversationRecord record) throws IOException;
  }

  /** Reads only to check (every line, the end); counts the records. */
  static long check(InputStream in) throws IOException {
    long[] count = new long[1];
    read(in, (n, r) -> count[0]++);
    return count[0];
  }

  private static Header header(String line) {
    JsonObject h = object(1, line);
    JsonElement format = h.get("format");
    if (format == null || !format.isJsonPrimitive() || !DumpWriter.FORMAT.equals(format.getAsString())) {
      throw new DumpFormatException(1, "is not a dump header: \"format\" must be \"" + DumpWriter.FORMAT + "\"");
    }
    JsonElement version = h.get("version");
    if (version == null || !version.isJsonPrimitive() || !version.getAsJsonPrimitive().isNumber()) {
      throw new DumpFormatException(1, "has no numeric \"version\"");
    }
    if (version.getAsInt() != DumpWriter.VERSION) {
      throw new DumpFormatException(1, "is format version " + version + "; this convctl reads version "
          + DumpWriter.VERSION);
    }
    JsonElement source = h.get("source");
    return new Header(version.getAsInt(), source != null && source.isJsonObject() ? source.getAsJsonObject()
        : new JsonObject());
  }

  private static long endCount(long lineNumber, JsonObject object) {
    JsonElement end = object.get("end");
    if (!end.isJsonObject() || !end.getAsJsonObject().has("conversations")) {
      throw new DumpFormatException(lineNumber, "is an end line without \"conversations\"");
    }
    try {
      return end.getAsJsonObject().get("conversations").getAsLong();
    } catch (RuntimeException e) {
      throw new DumpFormatException(lineNumber, "is an end line whose \"conversations\" is not a number");
    }
  }

  private static JsonObject object(long lineNumber, String line) {
    try {
      JsonElement e = JsonParser.parseString(line);
      if (!e.isJsonObject()) {
        throw new DumpFormatException(lineNumber, "is not a JSON object");
      }
      return e.getAsJsonObject();
    } catch (JsonParseException e) {
      throw new DumpFormatException(lineNumber, "is not valid JSON (" + e.getMessage() + ")");
    }
  }
}
