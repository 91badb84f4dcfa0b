/**
 * The Prometheus endpoint: RPC counters and latencies, and the store's statistics, through Micrometer. May use
 * the store's interface ({@code stats()}); nothing but {@code Main} depends on it.
 */
package io.vmpilot.conversation.server.metrics;
