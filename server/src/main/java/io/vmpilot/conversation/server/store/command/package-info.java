/**
 * One immutable record per mutation ({@code SaveCommand}, {@code AppendCommand}, {@code UpdateCacheCommand},
 * {@code ClearCommand}): what the service layer has validated and the store carries out. A new mutation gets its
 * record here. Uses only the store's model.
 */
package io.vmpilot.conversation.server.store.command;
