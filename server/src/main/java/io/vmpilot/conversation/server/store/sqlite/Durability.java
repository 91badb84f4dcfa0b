package io.vmpilot.conversation.server.store.sqlite;

/** How far an acknowledged write is guaranteed to survive. */
public enum Durability {
  /**
   * Survives power loss and OS crashes: a write is acknowledged only after the log holding it has been synced
   * to disk (what {@code synchronous=FULL} does inside each COMMIT; here one sync after each group of commits, see
   * {@link LogSync}).
   */
  FULL("FULL"),
  /**
   * Survives a crash of the server process, but an OS crash or power loss may lose the last commits
   * ({@code synchronous=NORMAL} in WAL mode): those since the last sync of the log, which {@link PeriodicLogSync}
   * makes every 200 ms while writes come. Never corrupts the database.
   */
  NORMAL("NORMAL");

  private final String synchronousPragma;

  Durability(String synchronousPragma) {
    this.synchronousPragma = synchronousPragma;
  }

  public String synchronousPragma() {
    return synchronousPragma;
  }
}
