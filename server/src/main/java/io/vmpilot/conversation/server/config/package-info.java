/**
 * The server's settings: flags, environment variables and {@code config.ini} merged by picocli
 * ({@code ServerOptions}) into one immutable {@code ServerConfig}. May use {@code auth} and {@code tls} for the
 * values it loads (tokens, certificate files) and the backends' settings records; knows nothing of gRPC calls or
 * SQL. Only {@code Main} depends on it.
 */
package io.vmpilot.conversation.server.config;
