/**
 * The Java client: {@code ConversationClient} ({@code connect(target)} or {@code builder(target)}) wraps the
 * generated stub with deadlines, retries of UNAVAILABLE, bearer tokens ({@code BearerToken}) and TLS, and turns the
 * server's error details into {@code ConversationStoreException} and {@code VersionConflictException}. Depends
 * only on the generated proto classes and grpc-java; never on the server.
 */
package io.vmpilot.conversation.client;
