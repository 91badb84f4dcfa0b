package io.vmpilot.conversation.server.grpc;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * Opaque List page tokens. A token holds the version to continue below and a fingerprint of the tenant and
 * filter it was issued for, so a token that was forged, mangled, or reused with another filter is refused
 * instead of silently returning the wrong page.
 */
final class PageTokens {
  private static final String PREFIX = "v1:";

  private PageTokens() {}

  static String encode(long beforeVersion, String tenant, Map<String, String> filter) {
    String raw = PREFIX + beforeVersion + ":" + fingerprint(tenant, filter);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  /** The version to continue below; {@link Long#MAX_VALUE} for the first page. */
  static long decode(String token, String tenant, Map<String, String> filter) {
    if (token.isEmpty()) {
      return Long.MAX_VALUE;
    }
    String raw;
    try {
      raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw invalid("is not a page token issued by this server");
    }
    String[] parts = raw.split(":", -1);
    if (parts.length != 3 || !raw.startsWith(PREFIX)) {
      throw invalid("is not a page token issued by this server");
    }
    if (!parts[2].equals(fingerprint(tenant, filter))) {
      throw invalid("was issued for another metadata_filter; repeat the filter of the first request");
    }
    try {
      long version = Long.parseLong(parts[1]);
      if (version <= 0) {
        throw invalid("is not a page token issued by this server");
      }
      return version;
    } catch (NumberFormatException e) {
      throw invalid("is not a page token issued by this server");
    }
  }

  private static InvalidRequestException invalid(String description) {
    return RequestValidator.invalid("page_token", description);
  }

  private static String fingerprint(String tenant, Map<String, String> filter) {
    StringBuilder canonical = new StringBuilder(tenant.length() + 16).append(tenant.length()).append(':').append(tenant);
    new TreeMap<>(filter).forEach((k, v) ->
        canonical.append(k.length()).append(':').append(k).append(v.length()).append(':').append(v));
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
