package io.vmpilot.conversation.client;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Resolves {@code addresses:///host1:port1,host2:port2} to those servers, one address group each, so that gRPC's
 * {@code round_robin} spreads calls over them (gRPC itself resolves DNS names, not a fixed list). Hosts are looked
 * up once, when the channel starts.
 */
final class AddressListResolver extends NameResolverProvider {
  static final String SCHEME = "addresses";
  private static final AddressListResolver INSTANCE = new AddressListResolver();
  private static boolean registered;

  /** Makes the scheme known to gRPC (once per JVM). */
  static synchronized void register() {
    if (!registered) {
      NameResolverRegistry.getDefaultRegistry().register(INSTANCE);
      registered = true;
    }
  }

  /** The target naming {@code addresses} ("host:port" each, at least one). */
  static String target(List<String> addresses) {
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException("no server address given");
    }
    for (String a : addresses) {
      parse(a);
    }
    return SCHEME + ":///" + String.join(",", addresses);
  }

  private static InetSocketAddress parse(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new IllegalArgumentException("server address '" + hostPort + "' is not host:port");
    }
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("server address '" + hostPort + "' has no valid port", e);
    }
  }

  @Override
  public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
    if (!SCHEME.equals(targetUri.getScheme())) {
      return null;
    }
    String list = targetUri.getPath().startsWith("/") ? targetUri.getPath().substring(1) : targetUri.getPath();
    List<EquivalentAddressGroup> servers = new ArrayList<>();
    for (String hostPort : list.split(",")) {
      servers.add(new EquivalentAddressGroup(parse(hostPort.strip())));
    }
    String authority = list.split(",")[0].strip();
    return new NameResolver() {
      @Override
      public String getServiceAuthority() {
        return authority;
      }

      @Override
      public void start(Listener2 listener) {
        listener.onResult(ResolutionResult.newBuilder().setAddressesOrError(
            io.grpc.StatusOr.fromValue(servers)).build());
      }

      @Override
      public void shutdown() {}
    };
  }

  @Override
  public String getDefaultScheme() {
    return SCHEME;
  }

  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    // Below DNS (5): only targets that name this scheme come here.
    return 4;
  }

  @Override
  public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
    return List.of(InetSocketAddress.class);
  }
}
