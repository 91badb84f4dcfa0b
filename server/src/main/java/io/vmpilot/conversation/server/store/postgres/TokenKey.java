package io.vmpilot.conversation.server.store.postgres;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * The store's token key in its one row: created by the first server that opens the database, read by every other
 * (two starting at once both offer a key; the row keeps the first, and both read that one).
 */
final class TokenKey {
  private static final int KEY_BYTES = 32;

  private TokenKey() {}

  static byte[] loadOrCreate(DataSource writers) throws SQLException {
    byte[] fresh = new byte[KEY_BYTES];
    new SecureRandom().nextBytes(fresh);
    try (Connection c = writers.getConnection()) {
      try (PreparedStatement st = c.prepareStatement(
          "INSERT INTO token_key (id, key) VALUES (1, ?) ON CONFLICT (id) DO NOTHING")) {
        st.setBytes(1, fresh);
        st.executeUpdate();
      }
      c.commit();
      try (PreparedStatement st = c.prepareStatement("SELECT key FROM token_key WHERE id = 1");
          ResultSet rs = st.executeQuery()) {
        rs.next();
        byte[] key = rs.getBytes(1);
        c.rollback();
        return key;
      }
    }
  }
}
