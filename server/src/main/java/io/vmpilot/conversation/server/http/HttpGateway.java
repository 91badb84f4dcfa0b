package io.vmpilot.conversation.server.http;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.grpc.ManagedChannel;
import io.vmpilot.conversation.server.threads.DaemonThreads;
import io.vmpilot.conversation.server.tls.TlsFiles;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * The HTTP port: the API's HTTP/JSON routes under {@code /v1/} and the web viewer at {@code /}, served by the
 * JDK's HTTP server on a bounded pool of threads, each of which waits for its call's answer (small writes and
 * reads alike go on to the service's own threads as on the gRPC port).
 */
public final class HttpGateway implements AutoCloseable {
  /**
   * @param bindAddress the gRPC port's address (the same rules apply: loopback by default)
   * @param tls the gRPC port's TLS files, {@link TlsFiles#NONE} for plain HTTP
   * @param maxBodyBytes the largest request body accepted (the gRPC port's largest request)
   * @param threads requests handled at once; more wait their turn
   * @param shutdownGrace how long requests in flight may take to finish when the server stops
   */
  public record Settings(String bindAddress, int port, TlsFiles tls, int maxBodyBytes, int threads,
      Duration shutdownGrace) {}

  private final HttpServer server;
  private final ExecutorService executor;
  private final ManagedChannel channel;
  private final Duration shutdownGrace;
  private final boolean tls;
  private final Draining draining;

  private HttpGateway(HttpServer server, ExecutorService executor, ManagedChannel channel, Draining draining,
      Settings settings) {
    this.server = server;
    this.draining = draining;
    this.executor = executor;
    this.channel = channel;
    this.shutdownGrace = settings.shutdownGrace();
    this.tls = settings.tls().enabled();
  }

  /**
   * Starts serving; the calls go to {@code channel} (the gRPC server's in-process channel), which is closed with
   * the gateway.
   */
  public static HttpGateway start(Settings settings, ManagedChannel channel) throws IOException {
    InetSocketAddress address = new InetSocketAddress(settings.bindAddress(), settings.port());
    HttpServer server;
    if (settings.tls().enabled()) {
      SSLContext context = PemTls.context(settings.tls());
      HttpsServer https = HttpsServer.create(address, 0);
      boolean mutual = settings.tls().clientCertificatesRequired();
      https.setHttpsConfigurator(new HttpsConfigurator(context) {
        @Override
        public void configure(HttpsParameters params) {
          SSLParameters ssl = context.getDefaultSSLParameters();
          ssl.setNeedClientAuth(mutual);
          params.setSSLParameters(ssl);
        }
      });
      server = https;
    } else {
      server = HttpServer.create(address, 0);
    }
    CrossSiteGuard guard = new CrossSiteGuard(settings.bindAddress(), settings.tls().enabled());
    RouteTable routes = RouteTable.of(ConversationServiceGrpc.getServiceDescriptor());
    Draining draining = new Draining();
    server.createContext("/v1/", draining.wrap(new ApiHandler(routes, channel, guard, settings.maxBodyBytes())));
    server.createContext("/", draining.wrap(new ViewerAssets("/viewer/", guard)));
    ExecutorService executor = Executors.newFixedThreadPool(settings.threads(), DaemonThreads.numbered("http-call"));
    server.setExecutor(executor);
    server.start();
    return new HttpGateway(server, executor, channel, draining, settings);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** The viewer's URL, e.g. {@code http://127.0.0.1:8080/}. */
  public String url(String bindAddress) {
    String host = bindAddress.contains(":") ? "[" + bindAddress + "]" : bindAddress;
    return (tls ? "https" : "http") + "://" + host + ":" + port() + "/";
  }

  /**
   * Refuses new requests (503), waits up to the grace period for those in flight (whose calls the gRPC server
   * finishes, or refuses with UNAVAILABLE as it stops), then closes the port and the channel.
   */
  @Override
  public void close() {
    try {
      draining.drain(shutdownGrace);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server.stop(0);
    executor.shutdown();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    channel.shutdownNow();
  }
}
