/**
 * The memory backend: conversations in maps under one lock, which is the transaction {@code WriteRules} run in.
 * Nothing survives a restart. Uses {@code store}, {@code store.command}, {@code store.error} and
 * {@code store.write}; only {@code Main} and tests depend on it.
 */
package io.vmpilot.conversation.server.store.memory;
