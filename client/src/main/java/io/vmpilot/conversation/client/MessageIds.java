package io.vmpilot.conversation.client;

import java.security.SecureRandom;
import java.util.UUID;

/**
 * Ids for messages the caller sent without one: UUIDv7 (RFC 9562), so that they sort by creation time and never
 * repeat. The client gives them to every message of an Append, so a retry of an Append whose first attempt was
 * stored after all (UNAVAILABLE with an unknown outcome) stores nothing twice. A dozen lines rather than a
 * library: the common UUID libraries bring a logging binding along at run time.
 */
final class MessageIds {
  private static final SecureRandom RANDOM = new SecureRandom();

  private MessageIds() {}

  static String next() {
    long millis = System.currentTimeMillis();
    long randA = RANDOM.nextInt(1 << 12);
    long randB = RANDOM.nextLong();
    long mostSignificant = (millis << 16) | 0x7000L | randA;
    long leastSignificant = (randB & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new UUID(mostSignificant, leastSignificant).toString();
  }
}
