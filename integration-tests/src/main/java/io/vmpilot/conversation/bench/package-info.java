/**
 * The benchmark (docs/benchmark.md): {@code Benchmark} parses the options and starts a server per backend,
 * durability and round ({@code ServerUnderTest}); {@code LoadDriver} and {@code ClosedLoop} run a workload
 * ({@code Workloads}: agent turns, Saves, history reads, a hot thread) from many clients; W6
 * ({@code CreationAtScale}, creations while a tenant already has N conversations, put in by {@code ScaleSeeding})
 * runs on servers of its own; {@code Report} prints the table and writes the JSON. Uses the Java client's stubs
 * and {@code it.ServerProcess}; nothing depends on it.
 */
package io.vmpilot.conversation.bench;
