package io.vmpilot.conversation.server.store.write;

/**
 * How many leading messages of a Save are already stored, as found before the write's transaction (by a backend
 * that does not want its writer to read and compare a long history itself).
 *
 * @param version the conversation's version when the prefix was found; versions never repeat, so a row still at
 *     this version holds exactly the messages compared, and {@link WriteRules} trusts the prefix only then
 */
public record KeptPrefix(long version, int keep) {}
