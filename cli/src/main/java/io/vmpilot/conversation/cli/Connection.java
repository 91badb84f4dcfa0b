package io.vmpilot.conversation.cli;

import io.vmpilot.conversation.client.ConversationClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * How to reach the server: the Java client's settings as flags, each with the environment variable the Python
 * client reads (VMPILOT_STORE_ADDRESS, VMPILOT_STORE_TLS, VMPILOT_STORE_CA_CERT, VMPILOT_STORE_TOKEN). A flag wins
 * over its variable.
 */
final class Connection {
  static final String DEFAULT_ADDRESS = "localhost:50051";

  @Option(names = "--address", paramLabel = "HOST:PORT",
      description = "The server (default: $VMPILOT_STORE_ADDRESS, else " + DEFAULT_ADDRESS + ").")
  String address;

  @Option(names = "--tls", description = "Use TLS, trusting the system's CA roots (default: $VMPILOT_STORE_TLS).")
  Boolean tls;

  @Option(names = "--ca-cert", paramLabel = "PEM",
      description = "Trust this CA (PEM); implies --tls (default: $VMPILOT_STORE_CA_CERT).")
  Path caCert;

  @Option(names = "--client-cert", paramLabel = "PEM", description = "Present this client certificate chain (mTLS).")
  Path clientCert;

  @Option(names = "--client-key", paramLabel = "PEM", description = "The client certificate's PKCS#8 private key.")
  Path clientKey;

  @Option(names = "--authority", description = "The server name TLS expects, if not the address's host.")
  String authority;

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "Read the bearer token from FILE (default: $VMPILOT_STORE_TOKEN).")
  Path tokenFile;

  @Option(names = "--deadline", paramLabel = "SECONDS", defaultValue = "30",
      description = "Deadline of each unary call, in seconds (default: ${DEFAULT-VALUE}).")
  long deadlineSeconds;

  /** The environment, replaceable in tests. */
  Map<String, String> environment = System.getenv();

  String target() {
    if (address != null) {
      return address;
    }
    String fromEnv = environment.get("VMPILOT_STORE_ADDRESS");
    return fromEnv == null || fromEnv.isBlank() ? DEFAULT_ADDRESS : fromEnv;
  }

  ConversationClient connect() {
    ConversationClient.Builder b = ConversationClient.builder(target())
        .deadline(Duration.ofSeconds(deadlineSeconds));
    Path ca = caCert != null ? caCert : pathFromEnv("VMPILOT_STORE_CA_CERT");
    boolean useTls = tls != null ? tls : envTls();
    if (ca != null) {
      b.tls(ca);
    } else if (useTls || clientCert != null) {
      b.useTransportSecurity();
    }
    if (clientCert != null || clientKey != null) {
      if (clientCert == null || clientKey == null) {
        throw new CliException(ExitCodes.USAGE, "--client-cert and --client-key go together");
      }
      b.clientCertificate(clientCert, clientKey);
    }
    if (authority != null) {
      b.authority(authority);
    }
    String token = token();
    if (token != null) {
      b.bearerToken(token);
    }
    return b.build();
  }

  private String token() {
    if (tokenFile != null) {
      try {
        String token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
        if (token.isEmpty()) {
          throw new CliException(ExitCodes.USAGE, "the token file " + tokenFile + " is empty");
        }
        return token;
      } catch (IOException e) {
        throw new CliException(ExitCodes.USAGE, "cannot read the token file " + tokenFile + ": " + e.getMessage());
      }
    }
    String fromEnv = environment.get("VMPILOT_STORE_TOKEN");
    return fromEnv == null || fromEnv.isBlank() ? null : fromEnv.strip();
  }

  private boolean envTls() {
    String v = environment.getOrDefault("VMPILOT_STORE_TLS", "").strip().toLowerCase(java.util.Locale.ROOT);
    return switch (v) {
      case "", "false", "0" -> false;
      case "true", "1" -> true;
      default -> throw new CliException(ExitCodes.USAGE, "VMPILOT_STORE_TLS=" + v + ": expected true or false");
    };
  }

  private Path pathFromEnv(String name) {
    String v = environment.get(name);
    return v == null || v.isBlank() ? null : Path.of(v);
  }
}
