package io.vmpilot.conversation.server.store.sqlite;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The writer connection's prepared statements, kept open and reused. sqlite-jdbc (and Hikari) compile every
 * {@code prepareStatement} anew; the writer runs the same dozen statements for every request, and compiling
 * them was about a quarter of its time (measured: JFR samples of the writer thread, W1 at 64 clients). The
 * store's code is unchanged: it still prepares and closes statements in try-with-resources, and
 * {@link #wrap} hands it a connection whose {@code prepareStatement(String)} returns a cached statement whose
 * {@code close()} only clears its parameters and batch.
 *
 * <p>One thread uses it at a time: the writer thread, or the reader that borrowed the connection from the pool. A
 * statement already handed out (the same SQL prepared twice before the first was closed) is not shared: the
 * second caller gets a fresh, uncached one. At most {@link #CAPACITY} statements are kept (List builds its SQL from
 * the filters it is given), the least recently used closed first.
 */
final class StatementCache implements AutoCloseable {
  static final int CAPACITY = 64;

  private final Connection connection;
  private final Map<String, PreparedStatement> statements = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, PreparedStatement> eldest) {
      if (size() <= CAPACITY || inUse.contains(eldest.getKey())) {
        return false;
      }
      closeQuietly(eldest.getValue());
      return true;
    }
  };
  // The SQL of the cached statements handed out and not closed yet.
  private final Set<String> inUse = new HashSet<>();
  private final Connection wrapped;

  StatementCache(Connection connection) {
    this.connection = connection;
    this.wrapped = (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
        new Class<?>[] {Connection.class}, this::onConnection);
  }

  /** The connection to hand to write tasks. */
  Connection connection() {
    return wrapped;
  }

  private Object onConnection(Object proxy, Method method, Object[] args) throws Throwable {
    if (method.getName().equals("prepareStatement") && args != null && args.length == 1
        && args[0] instanceof String sql) {
      return prepare(sql);
    }
    return invoke(connection, method, args);
  }

  private PreparedStatement prepare(String sql) throws SQLException {
    if (inUse.contains(sql)) {
      return connection.prepareStatement(sql);
    }
    PreparedStatement st = statements.get(sql);
    if (st == null) {
      st = connection.prepareStatement(sql);
      statements.put(sql, st);
    }
    inUse.add(sql);
    PreparedStatement target = st;
    // Per handle: once closed, this handle neither frees the statement again nor uses it (by then it may have
    // been handed to someone else).
    boolean[] closed = {false};
    InvocationHandler handler = (proxy, method, args) -> {
      switch (method.getName()) {
        case "close" -> {
          if (!closed[0]) {
            closed[0] = true;
            inUse.remove(sql);
            if (statements.get(sql) == target) {
              target.clearParameters();
              target.clearBatch();
            }
          }
          return null;
        }
        case "isClosed" -> {
          return closed[0];
        }
        default -> {
          if (closed[0]) {
            throw new SQLException("statement is closed");
          }
          try {
            return invoke(target, method, args);
          } catch (SQLException e) {
            // A statement that failed is not reused: sqlite-jdbc may have closed it (it does when a step fails
            // on a full disk), and the next use would fail with "statement is not executing" instead.
            if (statements.remove(sql, target)) {
              closeQuietly(target);
            }
            throw e;
          }
        }
      }
    };
    return (PreparedStatement) Proxy.newProxyInstance(PreparedStatement.class.getClassLoader(),
        new Class<?>[] {PreparedStatement.class}, handler);
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /** Closes the cached statements (not the connection). */
  @Override
  public void close() {
    statements.values().forEach(StatementCache::closeQuietly);
    statements.clear();
    inUse.clear();
  }

  private static void closeQuietly(PreparedStatement st) {
    try {
      st.close();
    } catch (SQLException | RuntimeException ignored) {
      // Dropped after a failure, or the connection is being discarded: nothing more to do with it.
    }
  }
}
