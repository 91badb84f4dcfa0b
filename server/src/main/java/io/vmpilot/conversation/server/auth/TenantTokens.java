package io.vmpilot.conversation.server.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Which bearer token acts for which tenant. Only SHA-256 hashes of the tokens are kept, never the tokens
 * themselves, and no message of this class ever contains a token or a hash.
 *
 * <p>Tokens come from a tokens file, one {@code tenant sha256:<64 hex digits>} per line ({@code #} starts a
 * comment; blank lines are ignored), and from the environment variable {@value #ENVIRONMENT_VARIABLE}, whose
 * value is {@code tenant=token,tenant2=token2} (hashed as it is read). A tenant may have several tokens (to
 * rotate them); one token cannot belong to two tenants.
 *
 * <p>{@link #tenantOf} hashes the presented token and compares it with every known hash in constant time, so the
 * time a check takes says nothing about how close a guess was.
 */
public final class TenantTokens {
  /** The environment variable holding {@code tenant=token} pairs. */
  public static final String ENVIRONMENT_VARIABLE = "VMPILOT_AUTH_TOKENS";

  private static final String HASH_PREFIX = "sha256:";
  private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern HEX_SHA256 = Pattern.compile("[0-9a-fA-F]{64}");

  private record Entry(String tenant, byte[] hash) {}

  private final List<Entry> entries;

  private TenantTokens(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  /** No tokens at all. */
  public static TenantTokens none() {
    return new TenantTokens(List.of());
  }

  /**
   * The tokens of {@code file} (if not null) and of {@code environmentValue} (if not null or blank).
   *
   * @throws IllegalArgumentException naming the file and line (never the token) when something is malformed
   */
  public static TenantTokens load(Path file, String environmentValue) {
    Builder b = new Builder();
    if (file != null) {
      List<String> lines;
      try {
        lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read the tokens file " + file + ": " + e.getMessage(), e);
      }
      b.addFileLines(file.toString(), lines);
    }
    if (environmentValue != null && !environmentValue.isBlank()) {
      b.addEnvironment(environmentValue);
    }
    return b.build();
  }

  /** Parses the lines of a tokens file; {@code source} names it in error messages. */
  public static TenantTokens parseFile(String source, List<String> lines) {
    Builder b = new Builder();
    b.addFileLines(source, lines);
    return b.build();
  }

  /** Parses a {@value #ENVIRONMENT_VARIABLE} value: {@code tenant=token,tenant2=token2}. */
  public static TenantTokens parseEnvironment(String value) {
    Builder b = new Builder();
    b.addEnvironment(value);
    return b.build();
  }

  /** The tenant {@code token} belongs to, or empty when it is not a known token. */
  public Optional<String> tenantOf(String token) {
    byte[] presented = sha256(token);
    String found = null;
    // Every entry is compared, matching or not, each with a constant-time comparison.
    for (Entry e : entries) {
      if (MessageDigest.isEqual(presented, e.hash()) && found == null) {
        found = e.tenant();
      }
    }
    return Optional.ofNullable(found);
  }

  public boolean isEmpty() {
    return entries.isEmpty();
  }

  /** How many tokens are known. */
  public int size() {
    return entries.size();
  }

  /** The tenants that have at least one token, sorted. */
  public Set<String> tenants() {
    Set<String> tenants = new TreeSet<>();
    entries.forEach(e -> tenants.add(e.tenant()));
    return tenants;
  }

  /** The tokens-file line for {@code token} of {@code tenant}: {@code tenant sha256:<hex>}. */
  public static String hashLine(String tenant, String token) {
    checkTenant(tenant, "tenant");
    checkToken(token, "the token");
    return tenant + " " + HASH_PREFIX + HexFormat.of().formatHex(sha256(token));
  }

  /** SHA-256 of the token's UTF-8 bytes, as {@code printf %s "$TOKEN" | sha256sum} computes it. */
  static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }

  /** Whether {@code name} is a well-formed tenant name (what the tokens file accepts). */
  public static boolean isTenantName(String name) {
    return TENANT.matcher(name).matches();
  }

  private static void checkTenant(String tenant, String where) {
    if (!TENANT.matcher(tenant).matches()) {
      throw new IllegalArgumentException(where + ": a tenant name is 1 to 64 letters, digits, '.', '_' or '-', "
          + "starting with a letter or digit");
    }
  }

  private static void checkToken(String token, String where) {
    if (token.isEmpty()) {
      throw new IllegalArgumentException(where + " is empty");
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c <= ' ' || c == 0x7f || c == ',') {
        throw new IllegalArgumentException(where + " contains white space, a control character or a comma");
      }
    }
  }

  private static final class Builder {
    private final List<Entry> entries = new ArrayList<>();
    private final List<String> origins = new ArrayList<>();

    void addFileLines(String source, List<String> lines) {
      for (int i = 0; i < lines.size(); i++) {
        String where = source + " line " + (i + 1);
        String line = lines.get(i);
        int hash = line.indexOf('#');
        if (hash >= 0) {
          line = line.substring(0, hash);
        }
        line = line.strip();
        if (line.isEmpty()) {
          continue;
        }
        String[] fields = line.split("\\s+");
        if (fields.length != 2) {
          throw new IllegalArgumentException(where + ": expected 'TENANT sha256:HEX' (two fields)");
        }
        checkTenant(fields[0], where);
        String h = fields[1];
        if (!h.toLowerCase(Locale.ROOT).startsWith(HASH_PREFIX)
            || !HEX_SHA256.matcher(h.substring(HASH_PREFIX.length())).matches()) {
          throw new IllegalArgumentException(where + ": the second field must be 'sha256:' followed by the 64 hex "
              + "digits of the token's SHA-256 (see --hash-token)");
        }
        add(fields[0], HexFormat.of().parseHex(h.substring(HASH_PREFIX.length()).toLowerCase(Locale.ROOT)), where);
      }
    }

    void addEnvironment(String value) {
      String[] pairs = value.split(",", -1);
      for (int i = 0; i < pairs.length; i++) {
        String where = ENVIRONMENT_VARIABLE + " entry " + (i + 1);
        String pair = pairs[i].strip();
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException(where + ": expected 'tenant=token'");
        }
        String tenant = pair.substring(0, eq).strip();
        String token = pair.substring(eq + 1).strip();
        checkTenant(tenant, where);
        checkToken(token, where + ": the token");
        add(tenant, sha256(token), where);
      }
    }

    private void add(String tenant, byte[] hash, String where) {
      for (int i = 0; i < entries.size(); i++) {
        Entry e = entries.get(i);
        if (MessageDigest.isEqual(e.hash(), hash)) {
          if (!e.tenant().equals(tenant)) {
            throw new IllegalArgumentException(where + ": the same token is already given to another tenant at "
                + origins.get(i));
          }
          return;
        }
      }
      entries.add(new Entry(tenant, hash));
      origins.add(where);
    }

    TenantTokens build() {
      return new TenantTokens(entries);
    }
  }
}
