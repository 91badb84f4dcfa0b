/**
 * What the server promises its clients beyond the proto's messages, shared by every layer that answers a call (the
 * ErrorInfo domain). Depends on nothing; {@code auth} and {@code grpc} use it.
 */
package io.vmpilot.conversation.server.api;
