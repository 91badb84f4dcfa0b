package io.vmpilot.conversation.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import io.vmpilot.conversation.v1.ConversationRecord;
import io.vmpilot.conversation.v1.Message;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DumpReaderTest {
  private static final ConversationRecord A = ConversationRecord.newBuilder().setThreadId("a")
      .addMessages(Message.newBuilder().setJson("{\"x\": 1e400, \"u\": \"\\u00e9 é\"}"))
      .putCacheInfo("z", Long.MAX_VALUE).putCacheInfo("a", 1).putMetadata("k", "v").build();
  private static final ConversationRecord B = ConversationRecord.newBuilder().setThreadId("b").build();

  private static String dump(ConversationRecord... records) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (DumpWriter w = new DumpWriter(out, new JsonObject())) {
      for (ConversationRecord r : records) {
        w.write(r);
      }
      w.finish();
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static List<ConversationRecord> read(String text) throws Exception {
    List<ConversationRecord> records = new ArrayList<>();
    DumpReader.read(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), (n, r) -> records.add(r));
    return records;
  }

  private static String[] lines(String text) {
    return text.split("\n");
  }

  @Test
  void whatIsWrittenReadsBackTheSame() throws Exception {
    String text = dump(A, B);
    assertThat(read(text)).containsExactly(A, B);
    assertThat(lines(text)).hasSize(4);
    assertThat(lines(text)[3]).isEqualTo("{\"end\":{\"conversations\":2}}");
    // Map keys sorted: the same conversations give the same bytes.
    assertThat(lines(text)[1]).contains("\"cacheInfo\":{\"a\":\"1\",\"z\":\"9223372036854775807\"}");
  }

  @Test
  void everyFaultNamesItsLine() throws Exception {
    String good = dump(A, B);
    String[] l = lines(good);
    assertThatThrownBy(() -> read("")).hasMessage("line 1 is missing: the file is empty, not a dump");
    assertThatThrownBy(() -> read("{\"format\":\"other\"}\n")).hasMessageStartingWith("line 1 is not a dump header");
    assertThatThrownBy(() -> read(l[0].replace("\"version\":1", "\"version\":2") + "\n" + l[3] + "\n"))
        .hasMessageStartingWith("line 1 is format version 2");
    // Cut in the middle of line 3, and cut after line 2.
    assertThatThrownBy(() -> read(good.substring(0, good.indexOf(l[2]) + 5)))
        .hasMessageStartingWith("line 3 is not valid JSON");
    assertThatThrownBy(() -> read(l[0] + "\n" + l[1] + "\n"))
        .hasMessageStartingWith("line 3 is missing: the dump has no end line");
    assertThatThrownBy(() -> read(l[0] + "\n" + l[1] + "\n{\"threadId\":\"c\",\"bogus\":1}\n" + l[3]))
        .hasMessageStartingWith("line 3 is not a conversation record");
    assertThatThrownBy(() -> read(l[0] + "\n" + l[1] + "\n" + l[3] + "\n"))
        .hasMessageStartingWith("line 3 the end line counts 2 conversations but 1 precede it");
    assertThatThrownBy(() -> read(good + l[1] + "\n")).hasMessageStartingWith("line 5 follows the end line");
    assertThatThrownBy(() -> read(l[0] + "\n{\"messages\":[]}\n" + l[3])).hasMessage("line 2 has no threadId");
  }

  @Test
  void bytesThatAreNotUtf8AreRefused() {
    byte[] bad = "{\"format\":\"vmpilot-conversation-dump\",\"version\":1}\n{\"threadId\":\"\u00ff\"}\n"
        .getBytes(StandardCharsets.ISO_8859_1);
    assertThatThrownBy(() -> DumpReader.read(new ByteArrayInputStream(bad), (n, r) -> { }))
        .hasMessageContaining("not valid UTF-8");
  }
}
