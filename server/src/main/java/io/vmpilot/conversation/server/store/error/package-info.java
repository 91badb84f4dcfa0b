/**
 * The store's failures, all {@code StoreException}s: what a caller asked for that the rules refuse (version
 * mismatch, not found, limits) and what the storage cannot do now (unavailable, full). The service layer maps each
 * to a gRPC status; backends translate their own errors (SQLite's, PostgreSQL's) into these. Uses only the store's
 * model.
 */
package io.vmpilot.conversation.server.store.error;
