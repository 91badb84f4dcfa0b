package io.vmpilot.conversation.server.store;

/**
 * What a store says about itself for a status page.
 *
 * @param backend "memory", "sqlite" or "postgres"
 * @param schemaVersion the last migration applied; "" when there is no schema
 * @param databaseLocation the file or database name; "" for memory
 * @param databaseBytes size on disk; 0 for memory
 * @param durability how durable an acknowledged write is, in the backend's terms
 * @param conversations the tenant's conversations
 * @param messages the messages of the tenant's conversations
 */
public record StoreStatus(String backend, String schemaVersion, String databaseLocation, long databaseBytes,
    String durability, long conversations, long messages) {}
