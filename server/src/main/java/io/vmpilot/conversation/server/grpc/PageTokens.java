package io.vmpilot.conversation.server.grpc;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Opaque List page tokens. A token holds the version to continue below and an HMAC-SHA256, under the store's
 * token key, of that version with the tenant and filter it was issued for. So a token that was forged, mangled,
 * or reused by another tenant or with another filter is refused instead of silently returning the wrong page;
 * the key is the store's, so a token issued by one server is good on every server of the same storage, and
 * after a restart.
 */
final class PageTokens {
  private static final String PREFIX = "v2:";
  private static final String ALGORITHM = "HmacSHA256";
  /** Bytes of the MAC kept in a token: 128 bits, beyond guessing. */
  private static final int MAC_BYTES = 16;

  private final SecretKeySpec key;

  PageTokens(byte[] key) {
    this.key = new SecretKeySpec(key, ALGORITHM);
  }

  String encode(long beforeVersion, String tenant, Map<String, String> filter) {
    String raw = PREFIX + beforeVersion + ":" + mac(beforeVersion, tenant, filter);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  /** The version to continue below; {@link Long#MAX_VALUE} for the first page. */
  long decode(String token, String tenant, Map<String, String> filter) {
    if (token.isEmpty()) {
      return Long.MAX_VALUE;
    }
    String raw;
    try {
      raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw notIssuedHere();
    }
    String[] parts = raw.split(":", -1);
    if (parts.length != 3 || !raw.startsWith(PREFIX)) {
      throw notIssuedHere();
    }
    long version;
    try {
      version = Long.parseLong(parts[1]);
    } catch (NumberFormatException e) {
      throw notIssuedHere();
    }
    if (version <= 0) {
      throw notIssuedHere();
    }
    byte[] expected = mac(version, tenant, filter).getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(expected, parts[2].getBytes(StandardCharsets.US_ASCII))) {
      // Forged, or issued for another tenant or filter: from outside the two cannot be told apart.
      throw RequestValidator.invalid("page_token", "is not a page token issued by this server for this request;"
          + " repeat the metadata_filter of the first request");
    }
    return version;
  }

  private static InvalidRequestException notIssuedHere() {
    return RequestValidator.invalid("page_token", "is not a page token issued by this server");
  }

  private String mac(long version, String tenant, Map<String, String> filter) {
    StringBuilder canonical = new StringBuilder(tenant.length() + 32).append(version).append(':')
        .append(tenant.length()).append(':').append(tenant);
    new TreeMap<>(filter).forEach((k, v) ->
        canonical.append(k.length()).append(':').append(k).append(v.length()).append(':').append(v));
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(key);
      byte[] digest = mac.doFinal(canonical.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, MAC_BYTES);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
    }
  }
}
