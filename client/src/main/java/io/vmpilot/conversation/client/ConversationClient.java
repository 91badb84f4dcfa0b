package io.vmpilot.conversation.client;

import com.google.protobuf.Timestamp;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.AppendResponse;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.ConversationSummary;
import io.vmpilot.conversation.v1.ForkRequest;
import io.vmpilot.conversation.v1.ForkResponse;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.ConversationAdminServiceGrpc;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.ListResponse;
import io.vmpilot.conversation.v1.Expiry;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.SaveResponse;
import io.vmpilot.conversation.v1.SearchRequest;
import io.vmpilot.conversation.v1.SearchResponse;
import io.vmpilot.conversation.v1.UpdateCacheRequest;
import io.vmpilot.conversation.v1.UpdateCacheResponse;
import io.vmpilot.conversation.v1.UpdateMetadataRequest;
import io.vmpilot.conversation.v1.UpdateMetadataResponse;
import io.vmpilot.conversation.v1.WatchRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A client of the conversation store, for agents: messages go in and come out as JSON strings, exactly as
 * written.
 *
 * <pre>{@code
 * try (ConversationClient client = ConversationClient.connect("localhost:50051")) {
 *   client.append("thread-1", List.of("{\"role\":\"user\",\"content\":\"hi\"}"));
 *   // A whole turn, messages and token counters, in one call:
 *   client.append("thread-1", List.of("{\"role\":\"assistant\",\"content\":\"hello\"}"),
 *       Map.of("input_tokens", 12L, "output_tokens", 3L));
 *   Optional<Conversation> conversation = client.get("thread-1");
 * }
 * }</pre>
 *
 * <p>With TLS and a bearer token (see {@link Builder#tls}, {@link Builder#clientCertificate} and
 * {@link Builder#bearerToken}):
 *
 * <pre>{@code
 * try (ConversationClient client = ConversationClient.builder("store.example.com:50051")
 *     .tls(Path.of("ca.pem"))                                       // trust the server's CA
 *     .clientCertificate(Path.of("client.pem"), Path.of("client.key")) // only if the server requires one
 *     .bearerToken(System.getenv("VMPILOT_TOKEN"))                  // only if the server has auth on
 *     .build()) {
 *   client.list().forEach(System.out::println);
 * }
 * }</pre>
 *
 * <p>Every call has a deadline ({@link Builder#deadline}, 10 s by default). Calls that fail with
 * {@code UNAVAILABLE} are retried with backoff ({@link Builder#maxAttempts}), and so are a busy server's refusals
 * ({@code RESOURCE_EXHAUSTED} {@code IN_FLIGHT_LIMIT}, or {@code OUT_OF_MEMORY} for a response with no room in
 * direct memory: nothing was done), after the delay the server gives in their {@code grpc-retry-pushback-ms}
 * trailer, which gRPC's retries obey; a version conflict never is, since only the caller can redo its change. A
 * request over 1 MiB refused while it was being sent is not retried (gRPC keeps at most that much of a call to
 * resend it). Failures are thrown as {@link ConversationStoreException} (a {@link VersionConflictException} for a
 * stale {@code expected_version}). Thread-safe; share one instance.
 */
public final class ConversationClient implements AutoCloseable {
  private final ManagedChannel channel;
  private final boolean ownsChannel;
  private final ConversationServiceBlockingStub stub;
  private final ConversationAdminServiceGrpc.ConversationAdminServiceBlockingStub adminStub;
  private final ConversationAdminServiceGrpc.ConversationAdminServiceStub adminAsyncStub;
  private final Duration deadline;

  private ConversationClient(ManagedChannel channel, boolean ownsChannel, Duration deadline,
      CallCredentials credentials, boolean waitForReady) {
    this.channel = channel;
    this.ownsChannel = ownsChannel;
    ConversationServiceBlockingStub base = ConversationServiceGrpc.newBlockingStub(channel);
    base = credentials == null ? base : base.withCallCredentials(credentials);
    this.stub = waitForReady ? base.withWaitForReady() : base;
    var admin = ConversationAdminServiceGrpc.newBlockingStub(channel);
    this.adminStub = credentials == null ? admin : admin.withCallCredentials(credentials);
    var adminAsync = ConversationAdminServiceGrpc.newStub(channel);
    this.adminAsyncStub = credentials == null ? adminAsync : adminAsync.withCallCredentials(credentials);
    this.deadline = deadline;
  }

  /** A client for {@code target} ("host:port") over plaintext, with the default settings. */
  public static ConversationClient connect(String target) {
    return builder(target).build();
  }

  public static Builder builder(String target) {
    return new Builder(Objects.requireNonNull(target, "target"));
  }

  /**
   * A client of several servers that share one database (the PostgreSQL backend), each "host:port": calls are
   * spread over them by gRPC's {@code round_robin}, and a call that fails with {@code UNAVAILABLE} (a server
   * restarting) is retried ({@link Builder#maxAttempts}), going to the next server that is up. When every
   * server is down at once (the last one restarting while the client still waits to reconnect to the first), a
   * call waits for one to come back, up to its deadline, rather than failing at once ({@link
   * Builder#waitForReady}). For a DNS name with one record per server, use
   * {@code builder("dns:///name:port").roundRobin().waitForReady(true)} instead.
   */
  public static Builder builder(List<String> servers) {
    AddressListResolver.register();
    return new Builder(AddressListResolver.target(List.copyOf(servers))).roundRobin().waitForReady(true);
  }

  /** A client over a channel the caller built and will close (e.g. with TLS or an in-process transport). */
  public static ConversationClient over(ManagedChannel channel, Duration deadline) {
    return new ConversationClient(channel, false, deadline, null, false);
  }

  /** A message with a client id, which makes appending it again a no-op. */
  public static Message message(String id, String json) {
    return Message.newBuilder().setId(id).setJson(json).build();
  }

  /** A message without an id. */
  public static Message message(String json) {
    return Message.newBuilder().setJson(json).build();
  }

  /**
   * An expiry for a write's {@code expiry} field (Save, Append, UpdateMetadata): the conversation expires
   * {@code ttl} after the write, by the server's clock. Positive, at most 100 years (else INVALID_ARGUMENT).
   */
  public static Expiry expireAfter(Duration ttl) {
    return Expiry.newBuilder().setTtl(com.google.protobuf.Duration.newBuilder().setSeconds(ttl.getSeconds())
        .setNanos(ttl.getNano())).build();
  }

  /** An expiry at {@code time}: after the server's current time, at most 100 years later (else INVALID_ARGUMENT). */
  public static Expiry expireAt(Instant time) {
    return Expiry.newBuilder().setExpireTime(Timestamp.newBuilder().setSeconds(time.getEpochSecond())
        .setNanos(time.getNano())).build();
  }

  /** An expiry that removes the conversation's expire time. */
  public static Expiry neverExpire() {
    return Expiry.newBuilder().setClear(true).build();
  }

  /**
   * Sets the conversation's own expire time to {@code ttl} from now, without sending its messages; throws
   * {@code NOT_FOUND} for an unknown (or already expired) conversation.
   */
  public UpdateMetadataResponse expireAfter(String threadId, Duration ttl) {
    return updateMetadata(UpdateMetadataRequest.newBuilder().setThreadId(threadId).setExpiry(expireAfter(ttl))
        .build());
  }

  /**
   * Replaces the conversation's whole history with {@code messages} (JSON objects), creating it if needed.
   * Cache info and metadata are kept.
   */
  public SaveResponse save(String threadId, List<String> messages) {
    return save(SaveRequest.newBuilder().setThreadId(threadId).addAllMessages(toMessages(messages)).build());
  }

  /** The full Save: cache info and metadata to merge, message ids, expected version. */
  public SaveResponse save(SaveRequest request) {
    return call(() -> stub().save(request));
  }

  /** The whole conversation, or empty if there is none. */
  public Optional<Conversation> get(String threadId) {
    return get(GetRequest.newBuilder().setThreadId(threadId).build());
  }

  /** The conversation with only its newest {@code maxMessages} messages (message_count still counts all). */
  public Optional<Conversation> getNewest(String threadId, int maxMessages) {
    return get(GetRequest.newBuilder().setThreadId(threadId).setMaxMessages(maxMessages).build());
  }

  /** A Get with a message window; empty if the conversation does not exist. */
  public Optional<Conversation> get(GetRequest request) {
    try {
      return Optional.of(stub().get(request).getConversation());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return Optional.empty();
      }
      throw ConversationStoreException.from(e);
    }
  }

  /** Replaces the cache info; throws {@code NOT_FOUND} for an unknown conversation. */
  public UpdateCacheResponse updateCache(String threadId, Map<String, Long> cacheInfo) {
    return updateCache(UpdateCacheRequest.newBuilder().setThreadId(threadId).putAllCacheInfo(cacheInfo).build());
  }

  public UpdateCacheResponse updateCache(UpdateCacheRequest request) {
    return call(() -> stub().updateCache(request));
  }

  /** Deletes the conversation; returns whether there was one. */
  public boolean clear(String threadId) {
    return clear(ClearRequest.newBuilder().setThreadId(threadId).build());
  }

  public boolean clear(ClearRequest request) {
    return call(() -> stub().clear(request)).getDeleted();
  }

  /**
   * Adds {@code messages} (JSON objects) at the end of the conversation, creating it if needed. Each gets a new
   * id (a UUIDv7), so that a retry stores nothing twice.
   */
  public AppendResponse append(String threadId, List<String> messages) {
    return append(AppendRequest.newBuilder().setThreadId(threadId).addAllMessages(toMessages(messages)).build());
  }

  /**
   * An agent's turn in one call: adds {@code messages} (JSON objects) at the end of the conversation, creating it
   * if needed, and sets the {@code cacheInfo} counters given (others kept), in one transaction. Each message gets a
   * new id (a UUIDv7), so that a retry stores nothing twice; a retry whose messages were all stored changes
   * nothing, its counters included (the first attempt set them).
   *
   * <pre>{@code
   * client.append("thread-1", List.of(userJson, assistantJson), Map.of("input_tokens", 1200L, "output_tokens", 85L));
   * }</pre>
   */
  public AppendResponse append(String threadId, List<String> messages, Map<String, Long> cacheInfo) {
    return append(AppendRequest.newBuilder().setThreadId(threadId).addAllMessages(toMessages(messages))
        .putAllCacheInfo(cacheInfo).build());
  }

  /**
   * The full Append: messages, cache info to set, expected version. A message without an id is given one (a UUIDv7) before the
   * request is sent, so that the retries of UNAVAILABLE, whose first attempt may have been stored, store nothing
   * twice; ids the caller set are kept.
   */
  public AppendResponse append(AppendRequest request) {
    AppendRequest withIds = withIds(request);
    return call(() -> stub().append(withIds));
  }

  private static AppendRequest withIds(AppendRequest request) {
    if (request.getMessagesList().stream().noneMatch(m -> m.getId().isEmpty())) {
      return request;
    }
    AppendRequest.Builder b = request.toBuilder();
    for (int i = 0; i < b.getMessagesCount(); i++) {
      if (b.getMessages(i).getId().isEmpty()) {
        b.setMessages(i, b.getMessages(i).toBuilder().setId(MessageIds.next()));
      }
    }
    return b.build();
  }

  /**
   * Sets the metadata keys of {@code set} and deletes those of {@code remove}, without sending the messages;
   * throws {@code NOT_FOUND} for an unknown conversation.
   */
  public UpdateMetadataResponse updateMetadata(String threadId, Map<String, String> set, List<String> remove) {
    return updateMetadata(UpdateMetadataRequest.newBuilder().setThreadId(threadId).putAllSet(set)
        .addAllRemove(remove).build());
  }

  /** The full UpdateMetadata: cache info keys to set and remove too, expected version. */
  public UpdateMetadataResponse updateMetadata(UpdateMetadataRequest request) {
    return call(() -> stub().updateMetadata(request));
  }

  /**
   * Copies the messages of {@code threadId} before {@code endPosition}, and its metadata, into the new
   * conversation {@code newThreadId} (which gets the metadata keys {@code forked_from} and
   * {@code forked_from_version}). A retry after {@code UNAVAILABLE} whose first attempt did fork fails with
   * {@code ALREADY_EXISTS}: look at the target's {@code forked_from} to tell.
   */
  public ForkResponse fork(String threadId, String newThreadId, long endPosition) {
    return fork(ForkRequest.newBuilder().setThreadId(threadId).setNewThreadId(newThreadId)
        .setEndPosition(endPosition).build());
  }

  /** The full Fork: without end_position the whole history is copied; expected version of the source. */
  public ForkResponse fork(ForkRequest request) {
    return call(() -> stub().fork(request));
  }

  /**
   * One page of the messages whose text holds every word of {@code query} (see the proto for what a word is),
   * best first; pass the response's next_page_token in a request of your own for the next page.
   */
  public SearchResponse search(String query) {
    return search(SearchRequest.newBuilder().setQuery(query).build());
  }

  /** The full Search: page size and token, metadata filter. */
  public SearchResponse search(SearchRequest request) {
    return call(() -> stub().search(request));
  }

  /** Every conversation, most recently updated first, fetched page by page as the iteration proceeds. */
  public Iterable<ConversationSummary> list() {
    return list(Map.of());
  }

  /** The conversations whose metadata holds every entry of {@code metadataFilter}. */
  public Iterable<ConversationSummary> list(Map<String, String> metadataFilter) {
    return list(ListRequest.newBuilder().putAllMetadataFilter(metadataFilter).build());
  }

  /** Iterates across all pages, starting from {@code request} (its page size sets the page length). */
  public Iterable<ConversationSummary> list(ListRequest request) {
    return () -> new PageIterator(request);
  }

  /** One page, for callers that keep the page token themselves. */
  public ListResponse listPage(ListRequest request) {
    return call(() -> stub().list(request));
  }

  /**
   * The admin service (Export, Import, GetServerStatus, Backup) with this client's credentials and no deadline:
   * an export or import of a large store runs as long as it needs; add one with {@code withDeadlineAfter}.
   * Not retried (a stream cannot be replayed; Export resumes by its cursor instead).
   */
  public ConversationAdminServiceGrpc.ConversationAdminServiceBlockingStub adminStub() {
    return adminStub;
  }

  /** The admin service's asynchronous stub (Import is client-streaming), like {@link #adminStub()}. */
  public ConversationAdminServiceGrpc.ConversationAdminServiceStub adminAsyncStub() {
    return adminAsyncStub;
  }

  /**
   * Follows the changes of one conversation ({@code threadId}) or of every conversation of the tenant ({@code ""})
   * committed after {@code startVersion}: first those already logged, then each new one as it commits. To follow
   * from the current state, read it first and pass the version read; to resume, pass the last version received
   * ({@link ConversationWatch#lastVersion()}). Close the watch when done.
   *
   * <pre>{@code
   * try (ConversationWatch changes = client.watch("thread-1", conversation.getVersion())) {
   *   while (changes.hasNext()) {
   *     WatchResponse change = changes.next();  // change.getKind(), change.getMessagesList(), ...
   *   }
   * }
   * }</pre>
   */
  public ConversationWatch watch(String threadId, long startVersion) {
    return watch(WatchRequest.newBuilder().setThreadId(threadId).setStartVersion(startVersion).build());
  }

  /**
   * Follows the changes of every conversation of the tenant whose metadata holds every entry of
   * {@code metadataFilter} (List's rule), committed after {@code startVersion}. A conversation that starts
   * matching arrives with the change that made it match (read its earlier history with {@link #get(String)}); the change by
   * which one stops matching arrives with {@code getLeftFilter()} true.
   */
  public ConversationWatch watchTenant(Map<String, String> metadataFilter, long startVersion) {
    return watch(WatchRequest.newBuilder().putAllMetadataFilter(metadataFilter).setStartVersion(startVersion).build());
  }

  /** Watch with a request built by the caller (all of WatchRequest's fields). */
  public ConversationWatch watch(WatchRequest request) {
    long startVersion = request.getStartVersion();
    Context.CancellableContext context = Context.current().withCancellation();
    Context previous = context.attach();
    try {
      // No deadline: the stream lasts until it is closed.
      return new ConversationWatch(context, stub.watch(request), startVersion);
    } finally {
      context.detach(previous);
    }
  }

  /** The generated stub with this client's deadline, for anything the methods above do not cover. */
  public ConversationServiceBlockingStub stub() {
    return stub.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    if (!ownsChannel) {
      return;
    }
    channel.shutdown();
    try {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private static List<Message> toMessages(List<String> json) {
    return json.stream().map(ConversationClient::message).toList();
  }

  private static <T> T call(Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException e) {
      throw ConversationStoreException.from(e);
    }
  }

  private final class PageIterator implements Iterator<ConversationSummary> {
    private ListRequest next;
    private Iterator<ConversationSummary> page = List.<ConversationSummary>of().iterator();

    PageIterator(ListRequest first) {
      this.next = first;
    }

    @Override
    public boolean hasNext() {
      while (!page.hasNext() && next != null) {
        ListResponse response = listPage(next);
        page = response.getConversationsList().iterator();
        next = response.getNextPageToken().isEmpty()
            ? null
            : next.toBuilder().setPageToken(response.getNextPageToken()).build();
      }
      return page.hasNext();
    }

    @Override
    public ConversationSummary next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return page.next();
    }
  }

  /** Settings of a client; every one has a sensible default. */
  public static final class Builder {
    private final String target;
    private Duration deadline = Duration.ofSeconds(10);
    private int maxAttempts = 5;
    private int maxInboundMessageBytes = 64 << 20;
    private boolean tls;
    private Path trustedCertificates;
    private Path clientCertificateChain;
    private Path clientPrivateKey;
    private String authority;
    private CallCredentials credentials;
    private boolean roundRobin;
    private boolean waitForReady;

    private Builder(String target) {
      this.target = target;
    }

    /**
     * Connects over TLS, trusting the system's default CA certificates (for a server whose certificate a public
     * CA signed). Default: plaintext.
     */
    public Builder useTransportSecurity() {
      this.tls = true;
      return this;
    }

    /**
     * Connects over TLS, trusting only the CA certificates in {@code caCertificates} (PEM), e.g. the CA that
     * signed the server's {@code [server] tls_cert}. The server's certificate must name the host of the target
     * (or {@link #authority}).
     */
    public Builder tls(Path caCertificates) {
      this.tls = true;
      this.trustedCertificates = Objects.requireNonNull(caCertificates, "caCertificates");
      return this;
    }

    /**
     * Presents this client certificate (PEM chain, and its unencrypted PKCS#8 PEM private key), as a server
     * with {@code [server] tls_client_ca} (mutual TLS) requires. Implies TLS; combine with {@link #tls} to choose
     * the trusted CA.
     */
    public Builder clientCertificate(Path certificateChain, Path privateKey) {
      this.tls = true;
      this.clientCertificateChain = Objects.requireNonNull(certificateChain, "certificateChain");
      this.clientPrivateKey = Objects.requireNonNull(privateKey, "privateKey");
      return this;
    }

    /** The host name checked against the server's certificate, when it differs from the target's host. */
    public Builder authority(String authority) {
      this.authority = Objects.requireNonNull(authority, "authority");
      return this;
    }

    /**
     * Sends {@code authorization: Bearer <token>} with every call, for a server with {@code [auth] enabled =
     * true}; the token decides which tenant's conversations the client sees. Use it over TLS unless the server
     * is on the same machine: over plaintext, anyone on the network path can read the token.
     */
    public Builder bearerToken(String token) {
      this.credentials = new BearerToken(token);
      return this;
    }

    /**
     * Spreads calls over every address the target resolves to (gRPC's {@code round_robin}), skipping servers that
     * are down, rather than using the first that answers ({@code pick_first}, the default). For a target with
     * several servers behind it: a DNS name with a record per server, or {@link ConversationClient#builder(List)}.
     */
    public Builder roundRobin() {
      this.roundRobin = true;
      return this;
    }

    /** How long each call may take, retries included. Default 10 s. */
    /**
     * Whether a call made while no server is reachable waits, up to its deadline, for one to become reachable
     * ({@code true}), or fails at once with {@code UNAVAILABLE} ({@code false}, the default for one target, so
     * that a server that is down is reported quickly). {@link ConversationClient#builder(List)} turns it on: with
     * several servers, "none reachable" is a moment of a rolling restart, not an outage.
     */
    public Builder waitForReady(boolean waitForReady) {
      this.waitForReady = waitForReady;
      return this;
    }

    public Builder deadline(Duration deadline) {
      this.deadline = Objects.requireNonNull(deadline, "deadline");
      return this;
    }

    /** Attempts per call when the server is UNAVAILABLE (1 = no retry). Default 5, backing off from 0.1 s. */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1");
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /** Largest response accepted, e.g. a long history. Default 64 MiB. */
    public Builder maxInboundMessageBytes(int bytes) {
      this.maxInboundMessageBytes = bytes;
      return this;
    }

    public ConversationClient build() {
      ManagedChannelBuilder<?> channel = Grpc.newChannelBuilder(target, channelCredentials())
          .maxInboundMessageSize(maxInboundMessageBytes);
      if (authority != null) {
        channel.overrideAuthority(authority);
      }
      if (roundRobin) {
        channel.defaultLoadBalancingPolicy("round_robin");
      }
      if (maxAttempts > 1) {
        channel.defaultServiceConfig(retryServiceConfig(maxAttempts)).enableRetry();
      } else {
        channel.disableRetry();
      }
      return new ConversationClient(channel.build(), true, deadline, credentials, waitForReady);
    }

    private ChannelCredentials channelCredentials() {
      if (!tls) {
        return InsecureChannelCredentials.create();
      }
      TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
      try {
        if (trustedCertificates != null) {
          b.trustManager(trustedCertificates.toFile());
        }
        if (clientCertificateChain != null) {
          b.keyManager(clientCertificateChain.toFile(), clientPrivateKey.toFile());
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the TLS files: " + e.getMessage(), e);
      }
      return b.build();
    }

    /**
     * The methods retried on UNAVAILABLE, each by name because each is safe to repeat even when the first attempt
     * was stored after all (UNAVAILABLE may mean "outcome unknown"): Get and List read; Save and UpdateCache set
     * the same state again; Clear deletes what is already gone; Append skips messages whose ids are stored, and
     * this client gives every Append message an id. A method added to the service is not retried until it is
     * named here. ABORTED (a version conflict) is the caller's to handle, never retried.
     */
    static final List<String> RETRIED_METHODS = List.of("Get", "List", "Save", "UpdateCache", "Clear", "Append");

    /**
     * gRPC's retry policy for {@link #RETRIED_METHODS}: UNAVAILABLE, backing off from 0.1 s to 2 s. grpc-java also
     * retries any status whose trailers carry {@code grpc-retry-pushback-ms}, after that delay; the server gives a
     * delay only with refusals that did nothing ({@code IN_FLIGHT_LIMIT}, {@code OUT_OF_MEMORY}), and -1 (never
     * retried) with the limits a retry cannot pass, so RESOURCE_EXHAUSTED need not be listed here.
     */
    static Map<String, Object> retryServiceConfig(int maxAttempts) {
      Map<String, Object> retryPolicy = Map.of(
          "maxAttempts", (double) maxAttempts,
          "initialBackoff", "0.1s",
          "maxBackoff", "2s",
          "backoffMultiplier", 2.0,
          "retryableStatusCodes", List.of("UNAVAILABLE"));
      List<Map<String, Object>> names = RETRIED_METHODS.stream()
          .map(method -> Map.<String, Object>of("service", ConversationServiceGrpc.SERVICE_NAME, "method", method))
          .toList();
      Map<String, Object> methodConfig = Map.of("name", names, "retryPolicy", retryPolicy);
      return Map.of("methodConfig", List.of(methodConfig));
    }
  }
}
