package io.vmpilot.conversation.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away PKI made at test time with the JDK's own {@code keytool} (nothing to install): a CA, a server
 * certificate for {@code localhost} and {@code 127.0.0.1}, and a client certificate, all signed by the CA, plus
 * a second, unrelated CA. Certificates are PEM files; private keys are unencrypted PKCS#8 PEM, the form the
 * server's {@code tls_key} and the client's {@code clientCertificate} take.
 */
final class TestCertificates {
  private static final String PASSWORD = "test-only";

  final Path caCert;
  final Path serverCert;
  final Path serverKey;
  final Path clientCert;
  final Path clientKey;
  final Path otherCaCert;
  final Path otherClientCert;
  final Path otherClientKey;

  private final Path dir;

  private TestCertificates(Path dir) {
    this.dir = dir;
    this.caCert = dir.resolve("ca.pem");
    this.serverCert = dir.resolve("server.pem");
    this.serverKey = dir.resolve("server.key");
    this.clientCert = dir.resolve("client.pem");
    this.clientKey = dir.resolve("client.key");
    this.otherCaCert = dir.resolve("other-ca.pem");
    this.otherClientCert = dir.resolve("other-client.pem");
    this.otherClientKey = dir.resolve("other-client.key");
  }

  static TestCertificates create(Path dir) throws Exception {
    TestCertificates c = new TestCertificates(dir);
    c.makeCa("ca", "CN=Conversation store test CA", c.caCert);
    c.makeSigned("ca", "server", "CN=localhost", "san=dns:localhost,ip:127.0.0.1", "eku=serverAuth",
        c.serverCert, c.serverKey);
    c.makeSigned("ca", "client", "CN=agent-1", null, "eku=clientAuth", c.clientCert, c.clientKey);
    c.makeCa("other-ca", "CN=Some other CA", c.otherCaCert);
    c.makeSigned("other-ca", "other-client", "CN=intruder", null, "eku=clientAuth", c.otherClientCert,
        c.otherClientKey);
    return c;
  }

  private Path store(String alias) {
    return dir.resolve(alias + ".p12");
  }

  private void makeCa(String alias, String dname, Path pem) throws Exception {
    genkeypair(alias, dname, "bc:c");
    keytool("-exportcert", "-rfc", "-alias", alias, "-keystore", store(alias).toString(), "-file", pem.toString());
  }

  private void makeSigned(String caAlias, String alias, String dname, String san, String eku, Path pem, Path key)
      throws Exception {
    genkeypair(alias, dname, null);
    Path csr = dir.resolve(alias + ".csr");
    keytool("-certreq", "-alias", alias, "-keystore", store(alias).toString(), "-file", csr.toString());
    List<String> gencert = new ArrayList<>(List.of("-gencert", "-rfc", "-alias", caAlias,
        "-keystore", store(caAlias).toString(), "-infile", csr.toString(), "-outfile", pem.toString(),
        "-validity", "2", "-ext", "ku:c=digitalSignature,keyEncipherment", "-ext", eku));
    if (san != null) {
      gencert.addAll(List.of("-ext", san));
    }
    keytool(gencert.toArray(String[]::new));
    writePrivateKey(alias, key);
  }

  private void genkeypair(String alias, String dname, String ext) throws Exception {
    List<String> args = new ArrayList<>(List.of("-genkeypair", "-alias", alias, "-keyalg", "EC",
        "-groupname", "secp256r1", "-dname", dname, "-validity", "2", "-storetype", "PKCS12",
        "-keystore", store(alias).toString()));
    if (ext != null) {
      args.addAll(List.of("-ext", ext));
    }
    keytool(args.toArray(String[]::new));
  }

  /** The key pair's private key as PKCS#8 PEM (keytool itself never exports private keys). */
  private void writePrivateKey(String alias, Path pem) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store(alias))) {
      ks.load(in, PASSWORD.toCharArray());
    }
    Key key = ks.getKey(alias, PASSWORD.toCharArray());
    String base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(key.getEncoded());
    Files.writeString(pem, "-----BEGIN PRIVATE KEY-----\n" + base64 + "\n-----END PRIVATE KEY-----\n");
  }

  private void keytool(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    command.addAll(List.of("-storepass", PASSWORD, "-noprompt"));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("keytool " + String.join(" ", args) + " failed:\n" + output);
    }
  }
}
