package io.vmpilot.conversation.server.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.SearchHit;
import io.vmpilot.conversation.server.store.SearchQuery;
import io.vmpilot.conversation.server.store.SearchText;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The search index's segments are merged by the writer between batches ({@link IndexMerges}), not by FTS5 inside
 * the batches: each batch leaves its segment, and once nothing is queued the writer merges them.
 */
class IndexMergesTest {
  private static final int APPENDS = 30;

  @TempDir
  Path dir;

  @Test
  void theWriterMergesWhatTheBatchesWroteOnceNothingIsQueued() throws Exception {
    try (SqliteConversationStore s = SqliteConversationStore.open(
        new SqliteSettings(dir.resolve("s.db"), Durability.NORMAL, 5000, 2, 64, 1 << 20).withSearchIndex(true))) {
      assertThat(automerge()).as("FTS5's own merging, inside transactions").isEqualTo("0");
      for (int i = 0; i < APPENDS; i++) { // one at a time: each its own batch, each batch a segment of its own
        s.append(new AppendCommand(ThreadKey.of("t" + i),
            List.of(new NewMessage("", "{\"content\":\"zebra number" + i + "\"}")), OptionalLong.empty()));
      }
      // Left to FTS5's automerge (4), whose merging in a batch is in proportion to the batch's size, 30 small
      // batches left 15 segments; the writer's steps leave 3 (a positive 'merge' stops short of one segment).
      long deadline = System.nanoTime() + 10_000_000_000L;
      int segments = segments();
      while (segments > 3 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
        segments = segments();
      }
      assertThat(segments).as("segments once the writer has had nothing queued").isLessThanOrEqualTo(3);
      List<String> found = s.search(new SearchQuery(ThreadKey.DEFAULT_TENANT, SearchText.phrases("zebra"), Map.of(),
          100, 0)).stream().map(SearchHit::threadId).toList();
      assertThat(found).as("every message still found after the merges").hasSize(APPENDS);
      assertThat(s.search(new SearchQuery(ThreadKey.DEFAULT_TENANT, SearchText.phrases("number17"), Map.of(), 10,
          0))).extracting(SearchHit::threadId).containsExactly("t17");
    }
  }

  /** FTS5's automerge setting, as stored in the file. */
  private String automerge() throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("s.db"));
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT v FROM message_text_config WHERE k = 'automerge'")) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  /**
   * The index's segments, from FTS5's structure record (row 10 of its data table): a 4-byte cookie, the 4-byte
   * marker of the record's second version where present, then the number of levels and of segments as varints.
   */
  private int segments() throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("s.db"));
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT block FROM message_text_data WHERE id = 10")) {
      assertThat(rs.next()).as("the index's structure record").isTrue();
      byte[] b = rs.getBytes(1);
      int[] at = {4};
      if (b.length >= 8 && (b[4] & 0xff) == 0xff && b[5] == 0 && b[6] == 0 && b[7] == 1) {
        at[0] = 8;
      }
      varint(b, at); // levels
      return varint(b, at);
    }
  }

  /** SQLite's varint: big-endian groups of 7 bits, the high bit set on every byte but the last (enough below 2^28). */
  private static int varint(byte[] b, int[] at) {
    int value = 0;
    int x;
    do {
      x = b[at[0]++] & 0xff;
      value = (value << 7) | (x & 0x7f);
    } while ((x & 0x80) != 0);
    return value;
  }
}
