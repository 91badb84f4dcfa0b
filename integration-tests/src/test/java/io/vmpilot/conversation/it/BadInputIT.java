package io.vmpilot.conversation.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.stub.ClientCalls;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.ConversationServiceGrpc;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.ListResponse;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.UpdateCacheRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A generated corpus of hostile requests (seeded, so a failure reproduces): random bytes as JSON, deep nesting,
 * huge strings, control characters and NUL in names, invalid UTF-8 and garbage in raw protobuf frames, requests
 * over the size limit, negative page sizes, forged page tokens. The server must answer every one with a clear
 * status (never UNKNOWN, INTERNAL, or a hang), stay up and SERVING, and leave a conversation stored beforehand
 * byte-identical.
 */
class BadInputIT {
  private static final long SEED = 0xBAD1_2024L;
  private static final int MAX_INBOUND = 256 * 1024;
  private static final int MAX_MESSAGE = 64 * 1024;
  private static final int MAX_METADATA_VALUE = 4096;
  private static final String REFERENCE = "reference ⚓ conversation";
  private static final Set<Status.Code> CLEAR = EnumSet.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT,
      Status.Code.RESOURCE_EXHAUSTED, Status.Code.NOT_FOUND, Status.Code.ABORTED);

  @TempDir
  Path dir;

  private ManagedChannel channel;
  private final Map<Status.Code, AtomicLong> byCode = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> byCategory = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();

  /** One request of the corpus: its category, a description to reproduce it, the call, and what it must get. */
  private record Case(String category, String description, Supplier<Status.Code> call, Set<Status.Code> allowed) {}

  @Test
  void hostileInputGetsClearStatusesAndChangesNothing() throws Exception {
    long started = System.nanoTime();
    try (ServerProcess server = Rpc.startSqlite(dir.resolve("bad.db"), "--database-durability", "normal",
        "--max-inbound-message-bytes", Integer.toString(MAX_INBOUND),
        "--max-message-bytes", Integer.toString(MAX_MESSAGE),
        "--max-metadata-value-bytes", Integer.toString(MAX_METADATA_VALUE))) {
      channel = Rpc.channel(server.target());
      Rpc.stub(channel).save(SaveRequest.newBuilder().setThreadId(REFERENCE)
          .addAllMessages(TrickyMessages.ALL.stream().map(j -> Message.newBuilder().setJson(j).build()).toList())
          .putCacheInfo("input_tokens", 42).putMetadata("project_root", "/src/app").build());
      byte[] referenceBefore = reference().toByteArray();
      // A few conversations so that List has pages and a real token to forge from.
      for (int i = 0; i < 5; i++) {
        Rpc.stub(channel).append(AppendRequest.newBuilder().setThreadId("listed-" + i)
            .addMessages(Message.newBuilder().setJson("{\"i\":" + i + "}")).build());
      }
      String realToken = Rpc.stub(channel).list(ListRequest.newBuilder().setPageSize(2).build()).getNextPageToken();
      assertThat(realToken).isNotEmpty();

      List<Case> corpus = corpus(new Random(SEED), realToken);
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<?>> futures = new ArrayList<>();
      for (Case c : corpus) {
        futures.add(pool.submit(() -> run(c)));
      }
      for (Future<?> f : futures) {
        f.get(2, TimeUnit.MINUTES);
      }
      pool.shutdown();
      assertThat(pool.awaitTermination(1, TimeUnit.MINUTES)).isTrue();

      assertThat(server.isAlive()).as("server process alive").isTrue();
      assertThat(Rpc.awaitHealth(channel, s -> s == ServingStatus.SERVING, java.time.Duration.ofSeconds(10)))
          .isEqualTo(ServingStatus.SERVING);
      byte[] referenceAfter = reference().toByteArray();
      System.out.printf("BadInputIT: cases=%d by_status=%s by_category=%s failures=%d seconds=%.1f%n",
          corpus.size(), new TreeMap<>(byCode), new TreeMap<>(byCategory), failures.size(),
          (System.nanoTime() - started) / 1e9);
      failures.stream().limit(30).forEach(f -> System.out.println("BadInputIT failure: " + f));
      assertThat(referenceAfter).as("reference conversation byte-identical").isEqualTo(referenceBefore);
      assertThat(failures).isEmpty();
      Rpc.close(channel);
    }
  }

  private Conversation reference() {
    return Rpc.stub(channel).get(GetRequest.newBuilder().setThreadId(REFERENCE).build()).getConversation();
  }

  private void run(Case c) {
    Status.Code code;
    try {
      code = c.call().get();
    } catch (RuntimeException e) {
      code = Rpc.code(e);
      if (!c.allowed().contains(code)) {
        failures.add(c.category() + ": " + c.description() + " -> " + Status.fromThrowable(e));
      }
      record(c, code);
      return;
    } catch (AssertionError e) {
      failures.add(c.category() + ": " + c.description() + " -> " + e.getMessage());
      return;
    }
    if (!c.allowed().contains(code)) {
      failures.add(c.category() + ": " + c.description() + " -> " + code);
    }
    record(c, code);
  }

  private void record(Case c, Status.Code code) {
    byCode.computeIfAbsent(code, k -> new AtomicLong()).incrementAndGet();
    byCategory.computeIfAbsent(c.category(), k -> new AtomicLong()).incrementAndGet();
  }

  // ---- the corpus --------------------------------------------------------------------------------------

  private List<Case> corpus(Random r, String realToken) {
    List<Case> cases = new ArrayList<>();
    Set<Status.Code> invalid = EnumSet.of(Status.Code.INVALID_ARGUMENT);
    Set<Status.Code> tooBig = EnumSet.of(Status.Code.RESOURCE_EXHAUSTED);
    Set<Status.Code> okOrInvalid = EnumSet.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT);

    // Random bytes (decoded leniently) as a message's JSON.
    for (int i = 0; i < 500; i++) {
      byte[] bytes = randomBytes(r, r.nextInt(200));
      String json = new String(bytes, r.nextBoolean() ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
      cases.add(append("random-json", json, okOrInvalid, "thread-rj-" + i));
    }
    // Valid JSON objects with one random edit (often still valid: must then round-trip byte for byte).
    for (int i = 0; i < 600; i++) {
      String base = TrickyMessages.ALL.get(r.nextInt(TrickyMessages.ALL.size()));
      String mutated = mutate(r, base);
      for (int retry = 0; retry < 10 && !wellFormedUtf16(mutated); retry++) {
        mutated = mutate(r, base); // an edit that split a surrogate pair cannot even be sent as UTF-8
      }
      cases.add(saveRoundTrip("mutated-json", "thread-mj-" + i, mutated, Map.of(), okOrInvalid));
    }
    // Deep nesting, either side of the limit (64), and far past it.
    for (int i = 0; i < 200; i++) {
      int depth = i < 150 ? 1 + r.nextInt(130) : 1000 + r.nextInt(30_000);
      boolean arrays = r.nextBoolean();
      String json = "{\"a\":" + (arrays ? "[".repeat(depth) + "]".repeat(depth)
          : "{\"a\":".repeat(depth) + "1" + "}".repeat(depth)) + "}";
      boolean withinLimit = depth + 1 <= 64 && json.length() <= MAX_MESSAGE;
      cases.add(append("deep-nesting", json, withinLimit ? EnumSet.of(Status.Code.OK) : invalid,
          "thread-dn-" + i));
    }
    // Huge strings: messages, thread ids, metadata values, message ids, at and past each limit.
    for (int i = 0; i < 40; i++) {
      int kind = i % 4;
      switch (kind) {
        case 0 -> {
          int size = MAX_MESSAGE - 20 + r.nextInt(40);
          String json = "{\"s\":\"" + "x".repeat(size - 8) + "\"}";
          cases.add(append("huge-string", json, json.length() <= MAX_MESSAGE ? EnumSet.of(Status.Code.OK) : invalid,
              "thread-hs-" + i));
        }
        case 1 -> {
          String id = "t".repeat(250 + r.nextInt(20_000));
          cases.add(append("huge-string", "{}", id.length() <= 256 ? EnumSet.of(Status.Code.OK) : invalid, id));
        }
        case 2 -> {
          String value = "v".repeat(MAX_METADATA_VALUE - 10 + r.nextInt(20));
          cases.add(saveRoundTrip("huge-string", "thread-hm-" + i, "{}", Map.of("k", value),
              value.length() <= MAX_METADATA_VALUE ? EnumSet.of(Status.Code.OK) : invalid));
        }
        default -> {
          String messageId = "m".repeat(250 + r.nextInt(20));
          cases.add(new Case("huge-string", "message id of " + messageId.length(), () -> {
            Rpc.stub(channel).append(AppendRequest.newBuilder().setThreadId("thread-hi")
                .addMessages(Message.newBuilder().setId(messageId).setJson("{}")).build());
            return Status.Code.OK;
          }, messageId.length() <= 256 ? EnumSet.of(Status.Code.OK) : invalid));
        }
      }
    }
    // Control characters and NUL: refused in names, kept verbatim in metadata values.
    for (int i = 0; i < 400; i++) {
      String control = controlString(r);
      switch (i % 5) {
        case 0 -> cases.add(append("control-chars", "{}", invalid, "t" + control + i));
        case 1 -> cases.add(new Case("control-chars", "message id " + escape(control), () -> {
          Rpc.stub(channel).append(AppendRequest.newBuilder().setThreadId("thread-cc")
              .addMessages(Message.newBuilder().setId("m" + control).setJson("{}")).build());
          return Status.Code.OK;
        }, invalid));
        case 2 -> cases.add(saveRoundTrip("control-chars", "thread-ck-" + i, "{}", Map.of("k" + control, "v"),
            invalid));
        case 3 -> cases.add(saveRoundTrip("control-chars", "thread-cv-" + i, "{}", Map.of("k", "v" + control),
            EnumSet.of(Status.Code.OK)));
        default -> cases.add(append("control-chars", "{\"s\":\"" + control + "\"}",
            // JSON forbids raw U+0000-U+001F in strings; U+007F-U+009F are allowed there.
            control.chars().anyMatch(c -> c < 0x20) ? invalid : EnumSet.of(Status.Code.OK), "thread-cj-" + i));
      }
    }
    // Raw frames with invalid UTF-8 in a string field, for each method and field.
    for (int i = 0; i < 300; i++) {
      byte[] bad = invalidUtf8(r);
      int which = i % 6;
      byte[] frame;
      String method;
      switch (which) {
        case 0 -> { method = "Save"; frame = concat(field(1, bad)); }
        case 1 -> { method = "Save"; frame = concat(field(1, ascii("thread-u8")),
            field(2, concat(field(1, ascii("m1")), field(2, concat(ascii("{\"s\":\""), bad, ascii("\"}")))))); }
        case 2 -> { method = "Save"; frame = concat(field(1, ascii("thread-u8")),
            field(4, concat(field(1, bad), field(2, ascii("v"))))); }
        case 3 -> { method = "Append"; frame = concat(field(1, bad),
            field(2, concat(field(2, ascii("{}"))))); }
        case 4 -> { method = "Get"; frame = concat(field(1, bad)); }
        default -> { method = "List"; frame = concat(field(2, bad)); }
      }
      cases.add(raw("invalid-utf8", method, frame, invalid));
    }
    // Garbage and damaged protobuf: random bytes, truncations and bit flips of valid frames, absurd lengths.
    List<byte[]> valid = List.of(
        SaveRequest.newBuilder().setThreadId("thread-gb").addMessages(Message.newBuilder().setId("a")
            .setJson("{\"x\":1}")).putCacheInfo("n", 1).putMetadata("k", "v").setExpectedVersion(0).build()
            .toByteArray(),
        AppendRequest.newBuilder().setThreadId("thread-gb2").addMessages(Message.newBuilder().setJson("{}"))
            .build().toByteArray(),
        UpdateCacheRequest.newBuilder().setThreadId("thread-gb").putCacheInfo("n", 2).build().toByteArray(),
        ListRequest.newBuilder().setPageSize(3).putMetadataFilter("k", "v").build().toByteArray());
    String[] validMethods = {"Save", "Append", "UpdateCache", "List"};
    String[] allMethods = {"Save", "Get", "UpdateCache", "Clear", "Append", "List"};
    Set<Status.Code> anyClear = CLEAR;
    for (int i = 0; i < 1200; i++) {
      int kind = i % 5;
      if (kind == 0) {
        cases.add(raw("garbage-protobuf", allMethods[r.nextInt(allMethods.length)],
            randomBytes(r, r.nextInt(300)), anyClear));
      } else {
        int v = r.nextInt(valid.size());
        byte[] frame = valid.get(v).clone();
        switch (kind) {
          case 1 -> frame = java.util.Arrays.copyOf(frame, r.nextInt(frame.length));
          case 2 -> frame[r.nextInt(frame.length)] ^= (byte) (1 << r.nextInt(8));
          case 3 -> frame[r.nextInt(frame.length)] = (byte) r.nextInt(256);
          default -> frame = concat(frame, new byte[] {(byte) 0x12, (byte) 0xff, (byte) 0xff, (byte) 0xff,
              (byte) 0xff, (byte) 0x07}); // a field claiming 2 GiB of data that is not there
        }
        cases.add(raw("garbage-protobuf", validMethods[v], frame, anyClear));
      }
    }
    // Deeply nested unknown groups/messages (protobuf's recursion limit).
    for (int i = 0; i < 20; i++) {
      int depth = 50 + r.nextInt(500);
      byte[] nested = new byte[0];
      for (int d = 0; d < depth; d++) {
        nested = field(15, nested);
      }
      cases.add(raw("garbage-protobuf", "Save", concat(field(1, ascii("thread-nest")), nested), anyClear));
    }
    // Requests over --max-inbound-message-bytes.
    for (int i = 0; i < 12; i++) {
      int size = MAX_INBOUND + 1 + r.nextInt(MAX_INBOUND);
      cases.add(append("oversized", "{\"s\":\"" + "y".repeat(size) + "\"}", tooBig, "thread-big-" + i));
    }
    // List: negative and extreme page sizes, forged page tokens.
    for (int i = 0; i < 300; i++) {
      int kind = i % 6;
      String base = new String(Base64.getUrlDecoder().decode(realToken), StandardCharsets.UTF_8);
      String fingerprint = base.substring(base.lastIndexOf(':') + 1);
      switch (kind) {
        case 0 -> cases.add(list("page-size", -1 - r.nextInt(Integer.MAX_VALUE - 1), "", Map.of(), invalid));
        case 1 -> cases.add(list("page-size", r.nextBoolean() ? Integer.MAX_VALUE : 1000 + r.nextInt(100_000), "",
            Map.of(), EnumSet.of(Status.Code.OK)));
        case 2 -> cases.add(list("page-token", 2, new String(randomBytes(r, 1 + r.nextInt(80)),
            StandardCharsets.ISO_8859_1), Map.of(), invalid));
        case 3 -> cases.add(list("page-token", 2, b64("v1:" + r.nextLong() + ":" + fingerprint), Map.of(),
            okOrInvalid));
        case 4 -> cases.add(list("page-token", 2, realToken, Map.of("project_root", "/elsewhere"), invalid));
        default -> {
          char[] chars = realToken.toCharArray();
          chars[r.nextInt(chars.length)] = "ABCxyz019-_=+/!".charAt(r.nextInt(15));
          cases.add(list("page-token", 2, new String(chars), Map.of(), okOrInvalid));
        }
      }
    }
    // Negative windows and versions.
    for (int i = 0; i < 60; i++) {
      long start = -1 - r.nextInt(1000);
      int max = -1 - r.nextInt(1000);
      long version = Long.MIN_VALUE + r.nextInt(1000);
      switch (i % 3) {
        case 0 -> cases.add(new Case("negative", "Get start_position=" + start, () -> {
          Rpc.stub(channel).get(GetRequest.newBuilder().setThreadId("listed-0").setStartPosition(start).build());
          return Status.Code.OK;
        }, invalid));
        case 1 -> cases.add(new Case("negative", "Get max_messages=" + max, () -> {
          Rpc.stub(channel).get(GetRequest.newBuilder().setThreadId("listed-0").setMaxMessages(max).build());
          return Status.Code.OK;
        }, invalid));
        default -> cases.add(new Case("negative", "Clear expected_version=" + version, () -> {
          Rpc.stub(channel).clear(ClearRequest.newBuilder().setThreadId("listed-0").setExpectedVersion(version)
              .build());
          return Status.Code.OK;
        }, invalid));
      }
    }
    java.util.Collections.shuffle(cases, r);
    return cases;
  }

  private Case append(String category, String json, Set<Status.Code> allowed, String thread) {
    return new Case(category, "Append thread_id=" + escape(abbreviate(thread)) + " json=" + escape(abbreviate(json)),
        () -> {
          Rpc.stub(channel).append(AppendRequest.newBuilder().setThreadId(thread)
              .addMessages(Message.newBuilder().setJson(json)).build());
          return Status.Code.OK;
        }, allowed);
  }

  /** A Save that, when accepted, must read back exactly as sent. */
  private Case saveRoundTrip(String category, String thread, String json, Map<String, String> metadata,
      Set<Status.Code> allowed) {
    return new Case(category, "Save thread_id=" + escape(thread) + " json=" + escape(abbreviate(json))
        + " metadata=" + escape(abbreviate(metadata.toString())), () -> {
          Rpc.stub(channel).save(SaveRequest.newBuilder().setThreadId(thread)
              .addMessages(Message.newBuilder().setJson(json)).putAllMetadata(metadata).build());
          Conversation back = Rpc.stub(channel).get(GetRequest.newBuilder().setThreadId(thread).build())
              .getConversation();
          if (!back.getMessages(0).getJson().equals(json) || !back.getMetadataMap().equals(metadata)) {
            throw new AssertionError("did not round-trip: got json=" + escape(abbreviate(back.getMessages(0).getJson()))
                + " metadata=" + escape(abbreviate(back.getMetadataMap().toString())));
          }
          return Status.Code.OK;
        }, allowed);
  }

  private Case list(String category, int pageSize, String token, Map<String, String> filter,
      Set<Status.Code> allowed) {
    return new Case(category, "List page_size=" + pageSize + " page_token=" + escape(token) + " filter=" + filter,
        () -> {
          ListResponse ignored = Rpc.stub(channel).list(ListRequest.newBuilder().setPageSize(pageSize)
              .setPageToken(token).putAllMetadataFilter(filter).build());
          return Status.Code.OK;
        }, allowed);
  }

  private Case raw(String category, String method, byte[] frame, Set<Status.Code> allowed) {
    return new Case(category, "raw " + method + " frame=" + hex(frame), () -> {
      ClientCalls.blockingUnaryCall(channel, rawMethod(method),
          CallOptions.DEFAULT.withDeadlineAfter(Rpc.DEADLINE.toMillis(), TimeUnit.MILLISECONDS), frame);
      return Status.Code.OK;
    }, allowed);
  }

  private static final Map<String, MethodDescriptor<byte[], byte[]>> RAW = new ConcurrentHashMap<>();

  /** The method with a byte[] marshaller both ways, so any bytes at all go on the wire as the request. */
  static MethodDescriptor<byte[], byte[]> rawMethod(String method) {
    return RAW.computeIfAbsent(method, m -> MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(ConversationServiceGrpc.SERVICE_NAME, m))
        .setRequestMarshaller(BYTES)
        .setResponseMarshaller(BYTES)
        .build());
  }

  private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  // ---- generators ----------------------------------------------------------------------------------------

  private static byte[] randomBytes(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  /** Characters a mutation inserts. No lone surrogates: Java's protobuf encoder would send them as '?'. */
  private static final String MUTATIONS = "{}[]\":,\\ \u0000\u001f\u007f\u0085ab1e-";

  private static String mutate(Random r, String s) {
    StringBuilder b = new StringBuilder(s);
    int at = r.nextInt(b.length());
    switch (r.nextInt(5)) {
      case 0 -> b.deleteCharAt(at);
      case 1 -> b.insert(at, MUTATIONS.charAt(r.nextInt(MUTATIONS.length())));
      case 2 -> b.setLength(at);
      case 3 -> b.insert(at, " ");
      default -> b.setCharAt(at, (char) r.nextInt(0x80));
    }
    return b.toString();
  }

  private static boolean wellFormedUtf16(String s) {
    return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).equals(s);
  }

  private static String controlString(Random r) {
    StringBuilder b = new StringBuilder();
    int n = 1 + r.nextInt(3);
    for (int i = 0; i < n; i++) {
      int c = r.nextInt(3) == 0 ? 0 : (r.nextBoolean() ? r.nextInt(0x20) : 0x7f + r.nextInt(0x21));
      b.append((char) c);
    }
    return b.toString();
  }

  /** Byte sequences that are not UTF-8: stray continuation bytes, overlong forms, surrogates, truncations. */
  private static byte[] invalidUtf8(Random r) {
    byte[][] bad = {
        {(byte) 0xff}, {(byte) 0xfe}, {(byte) 0x80}, {(byte) 0xbf}, {(byte) 0xc0, (byte) 0x80},
        {(byte) 0xc3, (byte) 0x28}, {(byte) 0xe2, (byte) 0x82}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
        {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xf0, (byte) 0x9f, (byte) 0x98},
        {(byte) 0xe0, (byte) 0x80, (byte) 0xaf}};
    return concat(ascii("t" + r.nextInt(1000)), bad[r.nextInt(bad.length)], ascii(r.nextBoolean() ? "x" : ""));
  }

  private static byte[] field(int number, byte[] value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    varint(out, (long) number << 3 | 2);
    varint(out, value.length);
    out.writeBytes(value);
    return out.toByteArray();
  }

  private static void varint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7fL) != 0) {
      out.write((int) (v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.write((int) v);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String hex(byte[] b) {
    return java.util.HexFormat.of().formatHex(b, 0, Math.min(b.length, 200)) + (b.length > 200 ? "..." : "");
  }

  private static String abbreviate(String s) {
    return s.length() <= 120 ? s : s.substring(0, 120) + "...(" + s.length() + " chars)";
  }

  private static String escape(String s) {
    StringBuilder b = new StringBuilder();
    s.chars().forEach(c -> {
      if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff)) {
        b.append(String.format("\\u%04x", c));
      } else {
        b.append((char) c);
      }
    });
    return b.toString();
  }
}
