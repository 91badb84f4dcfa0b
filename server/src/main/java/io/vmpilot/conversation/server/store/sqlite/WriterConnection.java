package io.vmpilot.conversation.server.store.sqlite;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.sqlite.SQLiteConnection;
import org.sqlite.core.DB;

/**
 * The writer thread's connection with its statement cache, kept from batch to batch (so that statements are
 * compiled once, not per request) and replaced after a batch fails at the connection level. Whenever what write
 * tasks keep beside the database may be stale (a new connection, another connection's commit, a discard), it
 * calls {@code forgetCachedState}. Used on the writer thread only.
 */
final class WriterConnection {
  private static final Logger LOG = Logger.getLogger(WriterConnection.class.getName());

  private final DataSource dataSource;
  private final Runnable forgetCachedState;
  private Connection connection;
  private StatementCache statements;
  // The same connection as sqlite-jdbc's own object, for SQLite's count of changed rows.
  private DB database;
  // PRAGMA data_version as of the last batch: it changes when another connection commits.
  private long dataVersion;

  WriterConnection(DataSource dataSource, Runnable forgetCachedState) {
    this.dataSource = dataSource;
    this.forgetCachedState = forgetCachedState;
  }

  /** The connection for the next batch (its statements cached), opened if there is none. */
  Connection forBatch() throws SQLException {
    if (connection == null) {
      connection = dataSource.getConnection();
      statements = new StatementCache(connection);
      database = connection.unwrap(SQLiteConnection.class).getDatabase();
      dataVersion = -1;
      forgetCachedState.run();
    }
    forgetStateIfChangedElsewhere();
    return statements.connection();
  }

  /** Rows changed by this connection since it opened: tells whether a failed task changed any. */
  long totalChanges() throws SQLException {
    return database.total_changes();
  }

  /**
   * Another connection (another process, an operator's shell) committed since this writer's last batch: what
   * tasks keep beside the database may be stale. {@code PRAGMA data_version} changes only with other
   * connections' commits.
   */
  private void forgetStateIfChangedElsewhere() throws SQLException {
    try (PreparedStatement st = statements.connection().prepareStatement("PRAGMA data_version");
        ResultSet rs = st.executeQuery()) {
      rs.next();
      long now = rs.getLong(1);
      if (now != dataVersion) {
        forgetCachedState.run();
        dataVersion = now;
      }
    }
  }

  /** Closes the connection (after a failure, or at the end); the next batch opens a new one. */
  void discard() {
    forgetCachedState.run();
    database = null;
    if (statements != null) {
      statements.close();
      statements = null;
    }
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException | RuntimeException e) {
        LOG.log(Level.FINE, "closing the writer connection failed", e);
      }
      connection = null;
    }
  }
}
