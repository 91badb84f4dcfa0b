/**
 * The server process: {@code Main} reads the configuration ({@code config}), opens the backend it names
 * ({@code store.memory} or {@code store.sqlite}), and serves it over gRPC ({@code grpc}) behind authentication
 * ({@code auth}), TLS ({@code tls}) and the metrics endpoint ({@code metrics}). Only this package knows every
 * other one; nothing depends on it.
 */
package io.vmpilot.conversation.server;
