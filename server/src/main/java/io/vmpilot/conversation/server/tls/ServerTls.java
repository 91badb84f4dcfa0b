package io.vmpilot.conversation.server.tls;

import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The server's transport security, from PEM files. */
public final class ServerTls {
  private ServerTls() {}

  /**
   * Plaintext when {@code certificateChain} is null; else TLS with that certificate chain and {@code privateKey}
   * (PEM; the key unencrypted PKCS#8, {@code -----BEGIN PRIVATE KEY-----}). With {@code clientCa} set, clients
   * must present a certificate signed by one of its CA certificates (mutual TLS).
   */
  public static ServerCredentials credentials(Path certificateChain, Path privateKey, Path clientCa) {
    if (certificateChain == null) {
      return InsecureServerCredentials.create();
    }
    try {
      TlsServerCredentials.Builder tls = TlsServerCredentials.newBuilder()
          .keyManager(readable(certificateChain, "[server] tls_cert").toFile(),
              readable(privateKey, "[server] tls_key").toFile());
      if (clientCa != null) {
        tls.trustManager(readable(clientCa, "[server] tls_client_ca").toFile())
            .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
      }
      return tls.build();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the TLS files: " + e.getMessage(), e);
    }
  }

  private static Path readable(Path file, String setting) {
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(setting + ": cannot read " + file);
    }
    return file;
  }
}
