package io.vmpilot.conversation.server.store.sqlite;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.vmpilot.conversation.server.threads.DaemonThreads;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Opens the database file: makes sure no other server has it ({@link DatabaseLock}), migrates the schema, then
 * builds one single-connection pool for the writer and one pool for readers.
 *
 * <p>Pragmas are passed as sqlite-jdbc connection properties, which it applies on every new connection.
 * (Hikari's {@code connectionInitSql} with several pragmas joined by ';' would apply only the first.)
 */
final class SqliteDataSources implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(SqliteDataSources.class.getName());
  final HikariDataSource writer;
  final HikariDataSource readers;
  private final WalCheckpointer checkpointer;
  private final DatabaseLock lock;

  private SqliteDataSources(HikariDataSource writer, HikariDataSource readers, WalCheckpointer checkpointer,
      DatabaseLock lock) {
    this.writer = writer;
    this.readers = readers;
    this.checkpointer = checkpointer;
    this.lock = lock;
  }

  static SqliteDataSources open(SqliteSettings settings) {
    createParentDirectory(settings.path());
    DatabaseLock lock = DatabaseLock.acquire(settings.path());
    HikariDataSource writer = null;
    HikariDataSource readers = null;
    try {
      migrate(settings);
      // The writer runs in auto-commit mode and begins each batch's transaction itself (see GroupCommitWriter).
      writer = pool(settings, "sqlite-writer", 1, "IMMEDIATE", true);
      // Readers run each read in a deferred transaction: one consistent snapshot, no write lock.
      readers = pool(settings, "sqlite-readers", settings.readPoolSize(), "DEFERRED", false);
      // Checkpoints run beside the writer, not inside its commits (see WalCheckpointer).
      WalCheckpointer checkpointer = WalCheckpointer.start(settings.jdbcUrl(), pragmas(settings, "DEFERRED"),
          settings.path());
      return new SqliteDataSources(writer, readers, checkpointer, lock);
    } catch (RuntimeException | java.sql.SQLException e) {
      if (readers != null) {
        readers.close();
      }
      if (writer != null) {
        writer.close();
      }
      lock.close();
      throw e instanceof RuntimeException r ? r : new IllegalStateException("cannot open " + settings.path(), e);
    }
  }

  private static void createParentDirectory(Path path) {
    Path parent = path.toAbsolutePath().getParent();
    try {
      Files.createDirectories(parent);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create the database directory " + parent + ": " + e, e);
    }
  }

  /**
   * A file with no table yet (new) is made {@code auto_vacuum = INCREMENTAL} before the migrations create any, so
   * that it gives the pages the sweep frees back to the file system ({@link SpaceReturn}); the VACUUM of an empty
   * file costs nothing (the WAL pragma has written its header already, which only a VACUUM changes). An older file
   * is left as it is: converting it would rewrite the whole file at start-up.
   */
  private static void incrementalVacuumIfNew(SqliteSettings settings) {
    try (Connection c = DriverManager.getConnection(settings.jdbcUrl());
        Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT count(*) FROM sqlite_master")) {
        if (!rs.next() || rs.getLong(1) > 0) {
          return;
        }
      }
      st.execute("PRAGMA auto_vacuum = INCREMENTAL");
      st.execute("VACUUM");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot prepare the new database file " + settings.path() + ": "
          + e.getMessage(), e);
    }
  }

  private static void migrate(SqliteSettings settings) {
    incrementalVacuumIfNew(settings);
    Properties props = pragmas(settings, "IMMEDIATE");
    Flyway flyway = Flyway.configure()
        .dataSource(settings.jdbcUrl(), null, null)
        .jdbcProperties(toMap(props))
        .locations("classpath:db/migration/sqlite")
        .load();
    MigrationInfo[] pending = flyway.info().pending();
    if (pending.length == 0) {
      return;
    }
    // Converting an existing file (V2 copies every message) can take a while: say so, and when it is done.
    String versions = Arrays.stream(pending).map(m -> "V" + m.getVersion() + " " + m.getDescription())
        .collect(Collectors.joining(", "));
    LOG.info("database " + settings.path() + ": applying schema migrations " + versions);
    long start = System.nanoTime();
    MigrateResult result = flyway.migrate();
    LOG.info("database " + settings.path() + ": schema at version " + result.targetSchemaVersion + " after "
        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + " ms");
  }

  private static Map<String, String> toMap(Properties props) {
    Map<String, String> map = new HashMap<>();
    props.stringPropertyNames().forEach(name -> map.put(name, props.getProperty(name)));
    return map;
  }

  static Properties pragmas(SqliteSettings settings, String transactionMode) {
    Properties p = new Properties();
    p.setProperty("journal_mode", "WAL");
    p.setProperty("synchronous", settings.durability().synchronousPragma());
    p.setProperty("busy_timeout", Integer.toString(settings.busyTimeoutMillis()));
    p.setProperty("foreign_keys", "true");
    p.setProperty("transaction_mode", transactionMode);
    // Else the driver runs a freshly compiled "SELECT last_insert_rowid()" after every INSERT, for
    // getGeneratedKeys, which nothing here calls (ids come back by RETURNING).
    p.setProperty("jdbc.get_generated_keys", "false");
    return p;
  }

  private static HikariDataSource pool(SqliteSettings settings, String name, int size, String transactionMode,
      boolean autoCommit) {
    HikariConfig config = new HikariConfig();
    config.setPoolName(name);
    config.setThreadFactory(DaemonThreads.numbered(name + "-pool"));
    config.setDriverClassName("org.sqlite.JDBC");
    config.setJdbcUrl(settings.jdbcUrl());
    Properties pragmas = pragmas(settings, transactionMode);
    if (name.equals("sqlite-writer")) {
      // WalCheckpointer copies the log beside the writer; the writer's own checkpoint only finishes each cycle.
      pragmas.setProperty("wal_autocheckpoint", Integer.toString(WalCheckpointer.WRITER_BACKSTOP_PAGES));
      // The writer's commits only write the log; with durability=full the GroupCommitWriter syncs it (LogSync)
      // before acknowledging, off the writer's thread.
      pragmas.setProperty("synchronous", "NORMAL");
    }
    config.setDataSourceProperties(pragmas);
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(size);
    config.setAutoCommit(autoCommit);
    return new HikariDataSource(config);
  }

  /** The pages in the write-ahead log, as the checkpointer last saw them. */
  long logPages() {
    return checkpointer.logPages();
  }

  @Override
  public void close() {
    checkpointer.close();
    readers.close();
    writer.close();
    lock.close(); // last: the file is free for another server only once this one let go of it
  }
}
