/**
 * TLS in one place: which files the configuration names ({@code TlsFiles}) and the gRPC server credentials made
 * from them ({@code ServerTls}, with optional client-certificate checks). Used by {@code config} and
 * {@code Main}; depends on nothing of the server's own.
 */
package io.vmpilot.conversation.server.tls;
