package io.vmpilot.conversation.cli;

import com.google.gson.JsonObject;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.vmpilot.conversation.v1.ConversationRecord;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * Writes a dump (docs/dump-format.md): a header line, one conversation per line (the proto JSON mapping of
 * {@code ConversationRecord}, map keys sorted, so the same conversations always give the same bytes), and an end
 * line with the count, whose absence tells a reader the file was cut short.
 */
final class DumpWriter implements AutoCloseable {
  static final String FORMAT = "vmpilot-conversation-dump";
  static final int VERSION = 1;

  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace().sortingMapKeys();

  private final Writer out;
  private long count;

  /** Starts a dump on {@code stream}; {@code source} says where the conversations come from (header "source"). */
  DumpWriter(OutputStream stream, JsonObject source) throws IOException {
    this.out = new BufferedWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), 1 << 16);
    JsonObject header = new JsonObject();
    header.addProperty("format", FORMAT);
    header.addProperty("version", VERSION);
    header.add("source", source);
    header.addProperty("created", Instant.now().toString());
    line(header.toString());
  }

  void write(ConversationRecord record) throws IOException {
    try {
      line(PRINTER.print(record));
    } catch (InvalidProtocolBufferException e) {
      throw new UncheckedIOException(new IOException("cannot print " + record.getThreadId(), e));
    }
    count++;
  }

  long count() {
    return count;
  }

  /** Writes the end line and flushes (does not close the stream for stdout). */
  void finish() throws IOException {
    JsonObject end = new JsonObject();
    JsonObject counts = new JsonObject();
    counts.addProperty("conversations", count);
    end.add("end", counts);
    line(end.toString());
    out.flush();
  }

  private void line(String text) throws IOException {
    out.write(text);
    out.write('\n');
  }

  @Override
  public void close() throws IOException {
    out.close();
  }
}
