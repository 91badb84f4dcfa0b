/**
 * The write rules, once for every backend: {@code WriteRules} carries out each command over a backend's
 * {@code StorageTransaction} (the storage primitives: find and lock a row, create, read messages and ids,
 * truncate, insert, merge metadata, take a version, update, delete), checking versions and limits, keeping a
 * Save's unchanged prefix, skipping an Append's stored ids and merging counters and metadata. A backend decides
 * what its transaction is and commits it; it never repeats a rule. Uses the store's model, commands and errors;
 * backends depend on it, the service layer does not.
 */
package io.vmpilot.conversation.server.store.write;
