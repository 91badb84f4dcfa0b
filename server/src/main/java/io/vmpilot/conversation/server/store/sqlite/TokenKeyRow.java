package io.vmpilot.conversation.server.store.sqlite;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/** The store's token key in its one row: created by the first open of the database, read by every later one. */
final class TokenKeyRow {
  private static final int KEY_BYTES = 32;

  private TokenKeyRow() {}

  static byte[] loadOrCreate(DataSource writer) throws SQLException {
    byte[] fresh = new byte[KEY_BYTES];
    new SecureRandom().nextBytes(fresh);
    try (Connection c = writer.getConnection()) {
      try (PreparedStatement st = c.prepareStatement("INSERT OR IGNORE INTO token_key (id, key) VALUES (1, ?)")) {
        st.setBytes(1, fresh);
        st.executeUpdate();
      }
      try (PreparedStatement st = c.prepareStatement("SELECT key FROM token_key WHERE id = 1");
          ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getBytes(1);
      }
    }
  }
}
