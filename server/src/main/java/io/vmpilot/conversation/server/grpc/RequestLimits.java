package io.vmpilot.conversation.server.grpc;

/**
 * What the service layer accepts in one request. (The history size limit is the store's, since it depends on
 * what is already stored.)
 *
 * @param maxMessagesPerRequest messages in one Save or Append
 * @param maxMessageBytes UTF-8 bytes of one message's JSON
 * @param maxJsonDepth nesting depth of one message's JSON ({"a":[1]} has depth 2)
 * @param maxMapEntries entries of cache_info, metadata or metadata_filter
 * @param maxMetadataValueBytes UTF-8 bytes of one metadata value
 */
public record RequestLimits(
    int maxMessagesPerRequest, long maxMessageBytes, int maxJsonDepth, int maxMapEntries, int maxMetadataValueBytes) {

  /** Ids, thread ids and map keys: at most this many characters. */
  public static final int MAX_NAME_LENGTH = 256;

  public static final RequestLimits DEFAULTS = new RequestLimits(10_000, 8L << 20, 64, 256, 64 << 10);
}
