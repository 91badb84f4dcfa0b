/**
 * The gRPC service layer: checks every request ({@code RequestValidator}, {@code JsonObjectValidator}), turns it
 * into a store command, calls the {@code ConversationStore}, and maps results ({@code ProtoMapper}) and failures
 * ({@code ErrorMapper}: status codes with {@code ErrorInfo}/{@code BadRequest}) back to the wire;
 * {@code GrpcServer} wires the service with health, reflection, limits and interceptors, and the transport's guards:
 * {@code InFlightLimiter} (the {@code InFlightBudget} of large messages), {@code LargeReads} (the pool of large
 * reads and writes, which refuses a large read before reading it when its answer cannot fit), {@code CallTimeLimit},
 * {@code ConnectionLimits} and {@code TransportWarnings} (the transport's log records condensed). May use the store's
 * interface, model, commands and errors, {@code auth} (the caller's tenant) and {@code api}; knows no SQL and no
 * backend. Nothing but {@code Main} depends on it.
 */
package io.vmpilot.conversation.server.grpc;
