package io.vmpilot.conversation.server.store.sqlite;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.logging.Logger;

/**
 * The search index's segment merges, run by the writer between its batches instead of inside them.
 *
 * <p>Why: FTS5 writes each transaction's words as a new segment and, left to itself ({@code automerge}), merges
 * segments inside the transaction that wrote the last one, in bursts: a batch of client writes that happens to pay
 * for a merge takes several times as long as the others, and every write in it waits (docs/benchmark.md has the
 * batches' latencies either way). Here the index's own merging is off ({@code automerge = 0}, stored in the
 * database file) and the writer takes merge steps of {@link #PAGES_PER_STEP} pages, each its own small transaction
 * after a batch has committed: whenever nothing is queued, and after every {@link #FORCED_AFTER_BATCHES} batches
 * anyway, so that a writer that is never idle still merges as fast as it writes. A step has nothing to sync (losing
 * one loses nothing a client wrote); the next batch's sync covers it. FTS5's {@code crisismerge} stays as the
 * backstop if steps fall behind. A step that fails (a full disk) is logged once and tried again after the next batch.
 */
final class IndexMerges {
  private static final Logger LOG = Logger.getLogger(IndexMerges.class.getName());
  /** Pages a step merges at most: a step holds the writer for about as long as a small batch. */
  static final int PAGES_PER_STEP = 16;
  /** Batches without an idle moment after which a step is taken all the same. */
  static final int FORCED_AFTER_BATCHES = 4;
  private static final String STEP = "INSERT INTO message_text (message_text, rank) VALUES ('merge', ?)";

  private final WriterConnection connection;
  private boolean workLeft = true;
  private int batchesSinceStep;
  private boolean failureLogged;

  IndexMerges(WriterConnection connection) {
    this.connection = connection;
  }

  /**
   * Turns FTS5's merging inside transactions off, once per file (the setting is stored in it); the writer merges
   * instead. Where that write fails (a full disk at start-up) FTS5 goes on merging by itself, which is only slower.
   */
  static void takeOver(Connection c) {
    try (Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT v FROM message_text_config WHERE k = 'automerge'")) {
        if (rs.next() && rs.getInt(1) == 0) {
          return;
        }
      }
      st.execute("INSERT INTO message_text (message_text, rank) VALUES ('automerge', 0)");
    } catch (SQLException e) {
      LOG.warning("the search index keeps merging inside the writes' transactions (turning that off failed): " + e);
    }
  }

  /** A batch committed: it may have added a segment. Takes a step if the writer has not idled for a while. */
  void afterBatch() {
    workLeft = true;
    if (++batchesSinceStep >= FORCED_AFTER_BATCHES) {
      step();
    }
  }

  /** Nothing is queued: takes a step if there may be merging to do; false when there is none (or it failed). */
  boolean stepWhileIdle() {
    return workLeft && step();
  }

  private boolean step() {
    batchesSinceStep = 0;
    try {
      Connection c = connection.forBatch();
      long before = connection.totalChanges();
      try (PreparedStatement st = c.prepareStatement(STEP)) {
        st.setInt(1, PAGES_PER_STEP);
        st.executeUpdate();
      }
      // FTS5 counts a step that merged something as changes; fewer than two: nothing was left to merge.
      workLeft = connection.totalChanges() - before >= 2;
    } catch (SQLException e) {
      workLeft = false;
      if (!failureLogged) {
        LOG.warning("merging the search index's segments failed (tried again after the next batch): " + e);
        failureLogged = true;
      }
    }
    return workLeft;
  }
}
