package io.vmpilot.conversation.bench;

/**
 * One row of the table: one workload on one backend (or one peer) in one round. Null figures are unknown (no
 * metrics endpoint, no process id, a store that does not write). {@code bytesWrittenPerOp} is the store's own count
 * of bytes written to its file; {@code diskBytesPerOp} what the server side's processes caused to be written to
 * storage (Linux /proc/PID/io write_bytes: SQLite's file and journal, PostgreSQL's or etcd's WAL and data), the
 * figure peers are compared by. {@code databaseCpuMsPerOp}: a database's own CPU per op (PostgreSQL's processes
 * under the PostgreSQL backend), apart from {@code serverCpuMsPerOp}.
 */
record Result(int round, String workload, String backend, String durability, int clients, long ops, double seconds,
    double opsPerSecond, double p50Ms, double p99Ms, double maxMs, Long peakRssKb, Double serverCpuMsPerOp,
    Double writesPerSync,
    Double bytesWrittenPerOp, Double requestBytesPerOp, long retries, long errors, String firstError,
    String note, MachineCpu.Use machine, Double diskBytesPerOp, Double databaseCpuMsPerOp) {
  /** How progress lines and the target figures name a server: "sqlite/full", "memory" (durability "-"). */
  static String backendLabel(String backend, String durability) {
    return backend + (durability.equals("-") ? "" : "/" + durability);
  }

  Result withNote(String newNote) {
    return new Result(round, workload, backend, durability, clients, ops, seconds, opsPerSecond, p50Ms, p99Ms,
        maxMs, peakRssKb, serverCpuMsPerOp, writesPerSync, bytesWrittenPerOp, requestBytesPerOp, retries, errors,
        firstError, newNote, machine, diskBytesPerOp, databaseCpuMsPerOp);
  }
}
