package io.vmpilot.conversation.server.tls;

import java.nio.file.Path;

/**
 * The PEM files of the server's TLS: certificate chain and private key, and the CA certificates client
 * certificates must be signed by (null: clients need none). All null for plaintext.
 */
public record TlsFiles(Path certificateChain, Path privateKey, Path clientCa) {
  public static final TlsFiles NONE = new TlsFiles(null, null, null);

  public boolean enabled() {
    return certificateChain != null;
  }

  public boolean clientCertificatesRequired() {
    return clientCa != null;
  }
}
