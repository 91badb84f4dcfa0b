package io.vmpilot.conversation.server.store.sqlite;

import java.nio.charset.StandardCharsets;
import java.util.function.ToLongFunction;

/**
 * The client ids of one conversation's messages, as 64-bit hashes mapped to the position of the message: 24 to 64
 * bytes per id, whatever the id's length. A hash says where to look, never that an id is stored: the caller
 * confirms a hit against the message at that position. Open addressing with linear probing; not thread-safe.
 */
final class IdPositions {
  private static final long EMPTY = 0;

  private final ToLongFunction<String> hash;
  private long[] hashes = new long[16];
  private long[] positions = new long[16];
  private int size;

  IdPositions() {
    this(IdPositions::hash);
  }

  /** With another hash function (tests force collisions with one). */
  IdPositions(ToLongFunction<String> hash) {
    this.hash = hash;
  }

  int size() {
    return size;
  }

  /** The position recorded for {@code id}'s hash, or -1. (Another id with the same hash may have taken it.) */
  long positionOf(String id) {
    long h = nonEmpty(hash.applyAsLong(id));
    int mask = hashes.length - 1;
    for (int i = slot(h, mask); hashes[i] != EMPTY; i = (i + 1) & mask) {
      if (hashes[i] == h) {
        return positions[i];
      }
    }
    return -1;
  }

  /** Records {@code id} at {@code position}; the first position stays if the hash is already there. */
  void put(String id, long position) {
    if ((size + 1) * 2 > hashes.length) {
      grow();
    }
    insert(nonEmpty(hash.applyAsLong(id)), position);
  }

  private void insert(long h, long position) {
    int mask = hashes.length - 1;
    int i = slot(h, mask);
    while (hashes[i] != EMPTY) {
      if (hashes[i] == h) {
        return;
      }
      i = (i + 1) & mask;
    }
    hashes[i] = h;
    positions[i] = position;
    size++;
  }

  private void grow() {
    long[] oldHashes = hashes;
    long[] oldPositions = positions;
    hashes = new long[oldHashes.length * 2];
    positions = new long[oldHashes.length * 2];
    size = 0;
    for (int i = 0; i < oldHashes.length; i++) {
      if (oldHashes[i] != EMPTY) {
        insert(oldHashes[i], oldPositions[i]);
      }
    }
  }

  private static int slot(long h, int mask) {
    return (int) (h ^ (h >>> 32)) & mask;
  }

  private static long nonEmpty(long h) {
    return h == EMPTY ? 1 : h;
  }

  /** FNV-1a over the UTF-8 bytes, then a finaliser that spreads the bits. */
  static long hash(String id) {
    long h = 0xcbf29ce484222325L;
    for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }

  /** Bytes this table holds, roughly. */
  long footprintBytes() {
    return 16L * hashes.length + 32;
  }
}
