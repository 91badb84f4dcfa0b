package io.vmpilot.conversation.bench;

/**
 * One row of the table: one workload on one backend (or one peer) in one round. Null figures are unknown (no
 * metrics endpoint, no process id, a store that does not write). {@code bytesWrittenPerOp} is the store's own count
 * of bytes written to its file; {@code diskBytesPerOp} what the server side's processes caused to be written to
 * storage (Linux /proc/PID/io write_bytes: SQLite's file and journal, PostgreSQL's or etcd's WAL and data), the
 * figure peers are compared by. {@code databaseCpuMsPerOp}: a database's own CPU per op (PostgreSQL's processes
 * under the PostgreSQL backend), apart from {@code serverCpuMsPerOp}. {@code bystanderAppendsPerSecond},
 * {@code bystanderP50Ms} and {@code bystanderP99Ms}: W6's Appends of a client that creates nothing, while the
 * row's ops (creations) ran; null for every other workload.
 */
record Result(int round, String workload, String backend, String durability, int clients, long ops, double seconds,
    double opsPerSecond, double p50Ms, double p99Ms, double maxMs, Long peakRssKb, Double serverCpuMsPerOp,
    Double writesPerSync,
    Double bytesWrittenPerOp, Double requestBytesPerOp, long retries, long errors, String firstError,
    String note, MachineCpu.Use machine, Double diskBytesPerOp, Double databaseCpuMsPerOp,
    Double bystanderAppendsPerSecond, Double bystanderP50Ms, Double bystanderP99Ms) {
  /** A row without bystander figures (every workload but W6). */
  Result(int round, String workload, String backend, String durability, int clients, long ops, double seconds,
      double opsPerSecond, double p50Ms, double p99Ms, double maxMs, Long peakRssKb, Double serverCpuMsPerOp,
      Double writesPerSync, Double bytesWrittenPerOp, Double requestBytesPerOp, long retries, long errors,
      String firstError, String note, MachineCpu.Use machine, Double diskBytesPerOp, Double databaseCpuMsPerOp) {
    this(round, workload, backend, durability, clients, ops, seconds, opsPerSecond, p50Ms, p99Ms, maxMs, peakRssKb,
        serverCpuMsPerOp, writesPerSync, bytesWrittenPerOp, requestBytesPerOp, retries, errors, firstError, note,
        machine, diskBytesPerOp, databaseCpuMsPerOp, null, null, null);
  }

  /** How progress lines and the target figures name a server: "sqlite/full", "memory" (durability "-"). */
  static String backendLabel(String backend, String durability) {
    return backend + (durability.equals("-") ? "" : "/" + durability);
  }

  Result withNote(String newNote) {
    return new Result(round, workload, backend, durability, clients, ops, seconds, opsPerSecond, p50Ms, p99Ms,
        maxMs, peakRssKb, serverCpuMsPerOp, writesPerSync, bytesWrittenPerOp, requestBytesPerOp, retries, errors,
        firstError, newNote, machine, diskBytesPerOp, databaseCpuMsPerOp, bystanderAppendsPerSecond, bystanderP50Ms,
        bystanderP99Ms);
  }

  /** This row with W6's bystander figures. */
  Result withBystander(double appendsPerSecond, double p50, double p99) {
    return new Result(round, workload, backend, durability, clients, ops, seconds, opsPerSecond, p50Ms, p99Ms,
        maxMs, peakRssKb, serverCpuMsPerOp, writesPerSync, bytesWrittenPerOp, requestBytesPerOp, retries, errors,
        firstError, note, machine, diskBytesPerOp, databaseCpuMsPerOp, appendsPerSecond, p50, p99);
  }
}
