/**
 * The Prometheus endpoint: RPC counters and latencies, the store's statistics and connection pools, and the JVM's
 * and the process's figures, through Micrometer. May use the store's interface ({@code stats()},
 * {@code connectionPools()}); nothing but {@code Main} depends on it.
 */
package io.vmpilot.conversation.server.metrics;
