package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.Conversation;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API over HTTP/JSON ({@code --http-port}) against the real server process: every route of the proto's
 * google.api.http rules, the proto3 JSON mapping, errors as google.rpc.Status with their details and the HTTP
 * status of their code, authentication and tenants, TLS with the gRPC port's files, the refusal of cross-site
 * requests, the viewer's files and headers, and the README's curl examples.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpJsonIT {
  private static final long MAX_HISTORY = 200_000;
  private static final int MAX_REQUEST = 400_000;

  private ServerProcess server;
  private HttpJson http;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    server = ServerProcess.startSqlite(dir.resolve("http.db"), "--http-port", "0",
        "--max-history-bytes", Long.toString(MAX_HISTORY), "--max-inbound-message-bytes", Integer.toString(MAX_REQUEST));
    assertThat(server.httpUrl()).startsWith("http://127.0.0.1:").endsWith("/");
    http = new HttpJson(server.httpUrl());
  }

  @AfterAll
  void stop() throws Exception {
    server.close();
  }

  private static String thread(String prefix) {
    return prefix + "-" + UUID.randomUUID();
  }

  private static String path(String threadId) {
    return "/v1/conversations/" + HttpJson.encode(threadId);
  }

  private static String messagesJson(String... messageJson) {
    JsonArray messages = new JsonArray();
    for (String m : messageJson) {
      JsonObject o = new JsonObject();
      o.addProperty("json", m);
      messages.add(o);
    }
    return messages.toString();
  }

  @Test
  void everyRouteAnswersInProto3Json() throws Exception {
    String t = thread("routes");
    String system = "{\"role\":\"system\",\"content\":\"You are helpful.\"}";
    String user = "{\"role\": \"user\", \"content\": \"caf\\u00e9 10.0\", \"n\": 9007199254740993}";
    HttpJson.Response saved = http.post(path(t) + ":save", "{\"messages\": " + messagesJson(system, user)
        + ", \"cacheInfo\": {\"input_tokens\": 10}, \"metadata\": {\"run\": \"" + t + "\"}}");
    assertThat(saved.status()).as(saved.raw().body()).isEqualTo(200);
    assertThat(saved.header("Content-Type")).isEqualTo("application/json; charset=utf-8");
    assertThat(saved.json().get("created").getAsBoolean()).isTrue();
    assertThat(saved.json().get("messageCount").getAsJsonPrimitive().isString()).as("int64 as a string").isTrue();
    assertThat(saved.json().get("messageCount").getAsString()).isEqualTo("2");

    HttpJson.Response appended = http.post(path(t) + ":append",
        "{\"messages\": [{\"id\": \"m3\", \"json\": \"{\\\"role\\\":\\\"assistant\\\",\\\"content\\\":\\\"hi\\\"}\"}]}");
    assertThat(appended.status()).isEqualTo(200);
    assertThat(appended.json().get("appendedCount").getAsInt()).isEqualTo(1);
    assertThat(http.post(path(t) + ":append", "{\"messages\": [{\"id\": \"m3\", \"json\": \"{}\"}]}").json()
        .get("appendedCount").getAsInt()).as("a retried id is skipped").isZero();

    JsonObject got = http.get(path(t)).json().getAsJsonObject("conversation");
    assertThat(got.get("threadId").getAsString()).isEqualTo(t);
    assertThat(got.getAsJsonArray("messages")).hasSize(3);
    assertThat(got.getAsJsonArray("messages").get(1).getAsJsonObject().get("json").getAsString())
        .as("byte for byte").isEqualTo(user);
    assertThat(got.getAsJsonObject("cacheInfo").get("input_tokens").getAsString()).isEqualTo("10");
    assertThat(got.get("createTime").getAsString()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
    try (ConversationClient grpc = ConversationClient.connect(server.target())) {
      Conversation c = grpc.get(t).orElseThrow();
      assertThat(c.getMessages(1).getJson()).as("the same store behind both ports").isEqualTo(user);
      assertThat(c.getVersion()).isEqualTo(got.get("version").getAsLong());
    }

    JsonArray newest = http.get(path(t) + "?maxMessages=1").json().getAsJsonObject("conversation")
        .getAsJsonArray("messages");
    assertThat(newest).hasSize(1);
    assertThat(newest.get(0).getAsJsonObject().get("id").getAsString()).isEqualTo("m3");
    assertThat(http.get(path(t) + "?start_position=1").json().getAsJsonObject("conversation")
        .getAsJsonArray("messages")).as("proto field names work too").hasSize(2);

    HttpJson.Response cache = http.post(path(t) + ":updateCache", "{\"cacheInfo\": {\"cache_read_input_tokens\": \"90\"}}");
    assertThat(cache.status()).isEqualTo(200);
    long version = cache.json().get("version").getAsLong();

    JsonObject listed = http.get("/v1/conversations?metadataFilter%5Brun%5D=" + HttpJson.encode(t)).json();
    assertThat(listed.getAsJsonArray("conversations")).hasSize(1);
    JsonObject summary = listed.getAsJsonArray("conversations").get(0).getAsJsonObject();
    assertThat(summary.get("threadId").getAsString()).isEqualTo(t);
    assertThat(summary.getAsJsonObject("cacheInfo").get("cache_read_input_tokens").getAsString()).isEqualTo("90");
    assertThat(summary.get("messageCount").getAsString()).isEqualTo("3");
    assertThat(listed.get("nextPageToken").getAsString()).as("printed even when empty").isEmpty();

    HttpJson.Response cleared = http.delete(path(t) + "?expectedVersion=" + version);
    assertThat(cleared.status()).isEqualTo(200);
    assertThat(cleared.json().get("deleted").getAsBoolean()).isTrue();
    assertThat(http.delete(path(t)).json().get("deleted").getAsBoolean()).as("printed even when false").isFalse();
    assertThat(http.get(path(t)).status()).isEqualTo(404);
  }

  @Test
  void listPagesWithTokensAndFiltersByEveryPairGiven() throws Exception {
    String run = thread("paging");
    for (int i = 0; i < 3; i++) {
      assertThat(http.post(path(run + "-" + i) + ":save", "{\"metadata\": {\"run\": \"" + run + "\", \"n\": \"" + i
          + "\"}}").status()).isEqualTo(200);
    }
    JsonObject first = http.get("/v1/conversations?pageSize=2&metadataFilter[run]=" + run).json();
    assertThat(first.getAsJsonArray("conversations")).hasSize(2);
    assertThat(first.getAsJsonArray("conversations").get(0).getAsJsonObject().get("threadId").getAsString())
        .as("newest first").isEqualTo(run + "-2");
    String token = first.get("nextPageToken").getAsString();
    assertThat(token).isNotEmpty();
    JsonObject second = http.get("/v1/conversations?pageSize=2&metadataFilter[run]=" + run + "&pageToken="
        + HttpJson.encode(token)).json();
    assertThat(second.getAsJsonArray("conversations")).hasSize(1);
    assertThat(second.get("nextPageToken").getAsString()).isEmpty();
    JsonObject both = http.get("/v1/conversations?metadataFilter[run]=" + run + "&metadataFilter[n]=1").json();
    assertThat(both.getAsJsonArray("conversations")).hasSize(1);

    HttpJson.Response foreign = http.get("/v1/conversations?pageSize=2&metadataFilter[run]=other&pageToken="
        + HttpJson.encode(token));
    assertThat(foreign.status()).isEqualTo(400);
    assertThat(foreign.json().get("code").getAsInt()).isEqualTo(3);
    HttpJson.Response negative = http.get("/v1/conversations?pageSize=-1");
    assertThat(negative.status()).isEqualTo(400);
    assertThat(negative.detail("google.rpc.BadRequest").toString()).contains("page_size");
  }

  @Test
  void threadIdsWithSlashesColonsSpacesAndUnicodeTravelPercentEncoded() throws Exception {
    String t = "a/b:c d?e#f%g+h é 你好 " + UUID.randomUUID() + ":append";
    HttpJson.Response saved = http.post(path(t) + ":save", "{\"messages\": " + messagesJson("{\"a\":1}") + "}");
    assertThat(saved.status()).as(saved.raw().body()).isEqualTo(200);
    assertThat(http.get(path(t)).json().getAsJsonObject("conversation").get("threadId").getAsString()).isEqualTo(t);
    assertThat(http.post(path(t) + ":append", "{\"messages\": " + messagesJson("{\"b\":2}") + "}").json()
        .get("messageCount").getAsString()).isEqualTo("2");
    try (ConversationClient grpc = ConversationClient.connect(server.target())) {
      assertThat(grpc.get(t)).isPresent();
    }
    assertThat(http.delete(path(t)).json().get("deleted").getAsBoolean()).isTrue();
  }

  @Test
  void theServicesErrorsAreGoogleRpcStatusWithDetailsAndTheirHttpStatus() throws Exception {
    String t = thread("errors");
    HttpJson.Response invalid = http.post(path(t) + ":save", "{\"messages\": " + messagesJson("{not json") + "}");
    assertThat(invalid.status()).isEqualTo(400);
    assertThat(invalid.json().get("code").getAsInt()).isEqualTo(3);
    assertThat(invalid.json().get("message").getAsString()).contains("messages[0].json");
    assertThat(invalid.reason()).isEqualTo("INVALID_ARGUMENT");
    assertThat(invalid.detail("google.rpc.ErrorInfo").get("domain").getAsString()).isEqualTo("conversation.vmpilot.io");
    assertThat(invalid.detail("google.rpc.BadRequest").getAsJsonArray("fieldViolations").get(0).getAsJsonObject()
        .get("field").getAsString()).isEqualTo("messages[0].json");

    HttpJson.Response notFound = http.get(path(t));
    assertThat(notFound.status()).isEqualTo(404);
    assertThat(notFound.json().get("code").getAsInt()).isEqualTo(5);
    assertThat(notFound.reason()).isEqualTo("CONVERSATION_NOT_FOUND");
    assertThat(notFound.detail("google.rpc.ErrorInfo").getAsJsonObject("metadata").get("thread_id").getAsString())
        .isEqualTo(t);
    assertThat(http.post(path(t) + ":updateCache", "{}").status()).isEqualTo(404);

    long version = http.post(path(t) + ":save", "{}").json().get("version").getAsLong();
    HttpJson.Response stale = http.post(path(t) + ":append", "{\"expectedVersion\": \"" + (version - 1)
        + "\", \"messages\": " + messagesJson("{}") + "}");
    assertThat(stale.status()).isEqualTo(409);
    assertThat(stale.json().get("code").getAsInt()).isEqualTo(10);
    assertThat(stale.reason()).isEqualTo("VERSION_MISMATCH");
    assertThat(stale.detail("google.rpc.ErrorInfo").getAsJsonObject("metadata").get("current_version").getAsString())
        .isEqualTo(Long.toString(version));
    assertThat(http.delete(path(t) + "?expectedVersion=0").status()).as("only if it does not exist").isEqualTo(409);

    String big = "{\"x\":\"" + "y".repeat(60_000) + "\"}";
    HttpJson.Response tooMuch = http.post(path(t) + ":save", "{\"messages\": " + messagesJson(big, big, big, big) + "}");
    assertThat(tooMuch.status()).isEqualTo(429);
    assertThat(tooMuch.json().get("code").getAsInt()).isEqualTo(8);
    assertThat(tooMuch.reason()).isEqualTo("HISTORY_TOO_LARGE");
    assertThat(http.get(path(t)).json().getAsJsonObject("conversation").get("messageCount").getAsString())
        .as("nothing was written").isEqualTo("0");

    HttpJson.Response noMessages = http.post(path(t) + ":append", "{}");
    assertThat(noMessages.status()).isEqualTo(400);
    assertThat(noMessages.detail("google.rpc.BadRequest").toString()).contains("messages");
    HttpJson.Response emptyThread = http.post("/v1/conversations/:append", "{\"messages\": " + messagesJson("{}") + "}");
    assertThat(emptyThread.status()).isEqualTo(400);
    assertThat(emptyThread.detail("google.rpc.BadRequest").toString()).contains("thread_id");
  }

  @Test
  void requestsThatDoNotFitTheirRouteAreRefusedWithTheFieldAtFault() throws Exception {
    String t = thread("misfit");
    assertViolation(http.get(path(t) + "?bogus=1&maxMessages=x"), "bogus", "maxMessages");
    assertViolation(http.get(path(t) + "?thread_id=other"), "thread_id");
    assertViolation(http.get(path(t) + "?maxMessages=1&maxMessages=2"), "maxMessages");
    assertViolation(http.get("/v1/conversations?metadataFilter=x"), "metadataFilter");
    assertViolation(http.delete(path(t) + "?expectedVersion=1.5"), "expectedVersion");
    assertViolation(http.post(path(t) + ":save?x=1", "{}"), "query string");
    assertViolation(http.post(path(t) + ":save", "{\"messagez\": []}"), "body");
    assertViolation(http.post(path(t) + ":save", "{\"messages\": [}"), "body");
    assertViolation(http.post(path(t) + ":save", "{\"threadId\": \"another\"}"), "thread_id");
    assertViolation(http.get("/v1/conversations/%E9"), "thread_id");
    assertViolation(http.post(path(t) + ":save", "{\"messages\": [{\"json\": \"{\\\"a\\\": \\\"\\ud800\\\"}\"},"
        + " {\"json\": \"{\\\"ok\\\": \\\"\\ud83d\\ude00\\\"}\", \"id\": \"\\udc00\"}],"
        + " \"metadata\": {\"k\": \"\\udfff\"}}"), "messages[0].json", "messages[1].id", "metadata[k]");
    assertViolation(http.send(http.request(path(t) + ":save").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {'{', '"', (byte) 0xC3, '"', '}'})).build()), "body");
    assertViolation(http.send(http.request(path(t) + ":save").header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build()), "Content-Type");
    assertViolation(http.send(http.request(path(t) + ":save").POST(HttpRequest.BodyPublishers.ofString("{}")).build()),
        "Content-Type");
    assertThat(http.get(path(t)).status()).as("none of them wrote anything").isEqualTo(404);

    HttpJson.Response sameInBoth = http.post(path(t) + ":save", "{\"thread_id\": \"" + t + "\"}");
    assertThat(sameInBoth.status()).isEqualTo(200);

    HttpJson.Response noRoute = http.get("/v1/threads");
    assertThat(noRoute.status()).isEqualTo(404);
    assertThat(noRoute.reason()).isEqualTo("NO_SUCH_ROUTE");
    HttpJson.Response wrongMethod = http.send(http.request(path(t)).PUT(HttpRequest.BodyPublishers.noBody()).build());
    assertThat(wrongMethod.status()).isEqualTo(405);
    assertThat(wrongMethod.header("Allow")).isEqualTo("GET, DELETE");
    assertThat(wrongMethod.reason()).isEqualTo("METHOD_NOT_ALLOWED");

    HttpJson.Response tooLarge = http.post(path(t) + ":save", "{\"messages\": "
        + messagesJson("{\"x\":\"" + "y".repeat(MAX_REQUEST) + "\"}") + "}");
    assertThat(tooLarge.status()).isEqualTo(429);
    assertThat(tooLarge.reason()).isEqualTo("REQUEST_TOO_LARGE");
    assertThat(tooLarge.detail("google.rpc.ErrorInfo").getAsJsonObject("metadata").get("limit_bytes").getAsString())
        .isEqualTo(Integer.toString(MAX_REQUEST));
  }

  private static void assertViolation(HttpJson.Response r, String... fields) {
    assertThat(r.status()).as(r.raw().body()).isEqualTo(400);
    assertThat(r.json().get("code").getAsInt()).isEqualTo(3);
    assertThat(r.reason()).isEqualTo("INVALID_ARGUMENT");
    List<String> violated = r.detail("google.rpc.BadRequest").getAsJsonArray("fieldViolations").asList().stream()
        .map(v -> v.getAsJsonObject().get("field").getAsString()).toList();
    assertThat(violated).as(r.raw().body()).containsExactlyInAnyOrder(fields);
  }

  @Test
  void requestsFromOtherWebSitesAreRefusedAndChangeNothing() throws Exception {
    String t = thread("cross-site");
    String body = "{\"messages\": " + messagesJson("{}") + "}";
    HttpJson.Response foreignOrigin = http.post(path(t) + ":append", body, "Origin", "http://evil.example");
    assertThat(foreignOrigin.status()).isEqualTo(403);
    assertThat(foreignOrigin.json().get("code").getAsInt()).isEqualTo(7);
    assertThat(foreignOrigin.reason()).isEqualTo("CROSS_SITE_REQUEST");
    assertThat(foreignOrigin.header("Access-Control-Allow-Origin")).isNull();
    assertThat(http.post(path(t) + ":append", body, "Sec-Fetch-Site", "cross-site").status()).isEqualTo(403);
    assertThat(http.get(path(t)).status()).as("nothing was written").isEqualTo(404);

    String self = server.httpUrl().substring(0, server.httpUrl().length() - 1);
    assertThat(http.post(path(t) + ":append", body, "Origin", self, "Sec-Fetch-Site", "same-origin").status())
        .as("the viewer's own requests").isEqualTo(200);

    // DNS rebinding: a name of another site resolving to 127.0.0.1. The JDK's client cannot set Host itself.
    String rebound = rawRequest("GET /v1/conversations HTTP/1.1\r\nHost: evil.example:" + port() + "\r\n"
        + "Connection: close\r\n\r\n");
    assertThat(rebound).startsWith("HTTP/1.1 403").contains("CROSS_SITE_REQUEST");
    assertThat(rawRequest("GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 403");
    assertThat(rawRequest("GET /v1/conversations?pageSize=1 HTTP/1.1\r\nHost: localhost:" + port()
        + "\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 200");
  }

  private int port() {
    return URI.create(server.httpUrl()).getPort();
  }

  private String rawRequest(String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port())) {
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void theViewerIsServedWithAStrictContentSecurityPolicy() throws Exception {
    HttpJson.Response page = http.get("/");
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.header("Content-Type")).isEqualTo("text/html; charset=utf-8");
    assertThat(page.raw().body()).contains("<script type=\"module\" src=\"app.js\"></script>");
    String csp = page.header("Content-Security-Policy");
    assertThat(csp).contains("default-src 'none'", "script-src 'self'", "connect-src 'self'",
        "frame-ancestors 'none'", "require-trusted-types-for 'script'").doesNotContain("unsafe");
    assertThat(page.header("X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(page.header("X-Frame-Options")).isEqualTo("DENY");
    assertThat(page.header("Referrer-Policy")).isEqualTo("no-referrer");
    assertThat(http.get("/v1/conversations").header("Content-Security-Policy")).isEqualTo(csp);

    HttpJson.Response script = http.get("/app.js");
    assertThat(script.header("Content-Type")).isEqualTo("text/javascript; charset=utf-8");
    assertThat(http.get("/app.js", "If-None-Match", script.header("ETag")).status()).isEqualTo(304);
    assertThat(http.get("/app.css").header("Content-Type")).isEqualTo("text/css; charset=utf-8");
    assertThat(http.get("/no-such-file.js").status()).isEqualTo(404);
    assertThat(rawRequest("GET /../server.jar HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 404");
    assertThat(rawRequest("GET /%2e%2e/%2e%2e/META-INF/MANIFEST.MF HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 404");
    assertThat(http.send(http.request("/").POST(HttpRequest.BodyPublishers.noBody()).build()).status()).isEqualTo(405);
  }

  @Test
  void authenticationAndTenantsAreTheGrpcPortsOwn(@TempDir Path dir) throws Exception {
    try (ServerProcess withAuth = ServerProcess.start(List.of("--database-path", dir.resolve("auth.db").toString(),
        "--http-port", "0", "--auth-enabled", "true"), null,
        Map.of("VMPILOT_AUTH_TOKENS", "alice=http-alice-token,bob=http-bob-token"))) {
      HttpJson api = new HttpJson(withAuth.httpUrl());
      String t = thread("tenant");
      HttpJson.Response anonymous = api.post(path(t) + ":save", "{}");
      assertThat(anonymous.status()).isEqualTo(401);
      assertThat(anonymous.json().get("code").getAsInt()).isEqualTo(16);
      assertThat(anonymous.reason()).isEqualTo("UNAUTHENTICATED");
      assertThat(anonymous.header("WWW-Authenticate")).startsWith("Bearer");
      HttpJson.Response wrong = api.get("/v1/conversations", "Authorization", "Bearer not-a-token");
      assertThat(wrong.status()).isEqualTo(401);
      assertThat(wrong.reason()).isEqualTo("INVALID_TOKEN");
      assertThat(wrong.raw().body()).doesNotContain("not-a-token");

      assertThat(api.post(path(t) + ":save", "{\"messages\": " + messagesJson("{\"for\":\"alice\"}") + "}",
          "Authorization", "Bearer http-alice-token").status()).isEqualTo(200);
      assertThat(api.get(path(t), "Authorization", "Bearer http-bob-token").status()).as("bob's tenant").isEqualTo(404);
      assertThat(api.get("/v1/conversations", "Authorization", "Bearer http-bob-token").json()
          .getAsJsonArray("conversations")).isEmpty();
      assertThat(api.get(path(t), "Authorization", "bearer http-alice-token").status()).isEqualTo(200);
      try (ConversationClient alice = ConversationClient.builder(withAuth.target()).bearerToken("http-alice-token")
          .build()) {
        assertThat(alice.get(t).orElseThrow().getMessages(0).getJson()).isEqualTo("{\"for\":\"alice\"}");
      }
      assertThat(api.get("/").status()).as("the viewer's page needs no token; its API calls do").isEqualTo(200);
    }
  }

  @Test
  void httpsWithTheGrpcPortsCertificatesAndMutualTls(@TempDir Path dir) throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    try (ServerProcess tls = ServerProcess.startSqlite(dir.resolve("tls.db"), "--http-port", "0",
        "--tls-cert", certs.serverCert.toString(), "--tls-key", certs.serverKey.toString())) {
      assertThat(tls.httpUrl()).startsWith("https://127.0.0.1:");
      HttpJson api = new HttpJson(tls.httpUrl(), HttpClient.newBuilder().sslContext(sslContext(certs, false)).build());
      String t = thread("tls");
      assertThat(api.post(path(t) + ":save", "{}").status()).isEqualTo(200);
      assertThat(api.get(path(t)).status()).isEqualTo(200);
      ExternalCommand curl = ExternalCommand.run(1, "curl", "-sS", "--max-time", "20", "--cacert",
          certs.caCert.toString(), tls.httpUrl() + path(t).substring(1));
      assertThat(curl.exitCode()).as(curl.output()).isZero();
      assertThat(curl.output()).contains("\"threadId\": \"" + t + "\"");
      ExternalCommand plain = ExternalCommand.run(1, "curl", "-sS", "--max-time", "20",
          tls.httpUrl().replace("https:", "http:") + path(t).substring(1));
      assertThat(plain.exitCode()).as("plain HTTP to the TLS port: %s", plain.output()).isNotZero();
      assertThat(plain.output()).doesNotContain(t);
    }
    try (ServerProcess mutual = ServerProcess.startSqlite(dir.resolve("mtls.db"), "--http-port", "0",
        "--tls-cert", certs.serverCert.toString(), "--tls-key", certs.serverKey.toString(),
        "--tls-client-ca", certs.caCert.toString())) {
      String t = thread("mtls");
      HttpJson withCertificate = new HttpJson(mutual.httpUrl(),
          HttpClient.newBuilder().sslContext(sslContext(certs, true)).build());
      assertThat(withCertificate.post(path(t) + ":save", "{}").status()).isEqualTo(200);
      ExternalCommand without = ExternalCommand.run(1, "curl", "-sS", "--max-time", "20", "--cacert",
          certs.caCert.toString(), mutual.httpUrl() + path(t).substring(1));
      assertThat(without.exitCode()).as("no client certificate: %s", without.output()).isNotZero();
      assertThat(without.output()).doesNotContain(t);
      ExternalCommand otherCa = ExternalCommand.run(1, "curl", "-sS", "--max-time", "20", "--cacert",
          certs.caCert.toString(), "--cert", certs.otherClientCert.toString(), "--key", certs.otherClientKey.toString(),
          mutual.httpUrl() + path(t).substring(1));
      assertThat(otherCa.exitCode()).as("a certificate of another CA: %s", otherCa.output()).isNotZero();
      ExternalCommand withCurl = ExternalCommand.run(1, "curl", "-sS", "--max-time", "20", "--cacert",
          certs.caCert.toString(), "--cert", certs.clientCert.toString(), "--key", certs.clientKey.toString(),
          mutual.httpUrl() + path(t).substring(1));
      assertThat(withCurl.output()).contains("\"threadId\": \"" + t + "\"");
    }
  }

  /** A client context trusting the test CA, with the test client certificate when {@code withClientCertificate}. */
  private static SSLContext sslContext(TestCertificates certs, boolean withClientCertificate) throws Exception {
    CertificateFactory x509 = CertificateFactory.getInstance("X.509");
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    try (InputStream in = Files.newInputStream(certs.caCert)) {
      trusted.setCertificateEntry("ca", x509.generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trusted);
    KeyManagerFactory kmf = null;
    if (withClientCertificate) {
      String pem = Files.readString(certs.clientKey).replaceAll("-----[A-Z ]+-----", "");
      var key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(pem)));
      Certificate[] chain;
      try (InputStream in = Files.newInputStream(certs.clientCert)) {
        chain = x509.generateCertificates(in).toArray(new Certificate[0]);
      }
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("client", key, new char[0], chain);
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, new char[0]);
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return context;
  }

  /** The README's curl commands, exactly as shown, against this server's HTTP port. */
  @Test
  void theReadmesCurlExamplesRunAsWritten() throws Exception {
    ExternalCommand r = ExternalCommand.run(3, "integration-tests/polyglot/curl/calls.sh", server.httpUrl());
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("curl: all", "README.md: every curl command shown is one this script runs");
  }
}
