package io.vmpilot.conversation.server.grpc;

import com.google.common.base.Utf8;
import com.google.rpc.BadRequest.FieldViolation;
import com.google.protobuf.Timestamp;
import io.vmpilot.conversation.server.store.command.ExpiryChange;
import io.vmpilot.conversation.v1.Expiry;
import io.vmpilot.conversation.server.store.ExportQuery;
import io.vmpilot.conversation.server.store.ImportedMessage;
import io.vmpilot.conversation.server.store.ChangeQuery;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.SearchText;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.ClearCommand;
import io.vmpilot.conversation.server.store.command.ForkCommand;
import io.vmpilot.conversation.server.store.command.ExistingPolicy;
import io.vmpilot.conversation.server.store.command.ImportCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.command.UpdateCacheCommand;
import io.vmpilot.conversation.server.store.command.UpdateMetadataCommand;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.BackupRequest;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.ForkRequest;
import io.vmpilot.conversation.v1.ConversationRecord;
import io.vmpilot.conversation.v1.ExportRequest;
import io.vmpilot.conversation.v1.ImportRequest;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.SearchRequest;
import io.vmpilot.conversation.v1.UpdateCacheRequest;
import io.vmpilot.conversation.v1.UpdateMetadataRequest;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import io.vmpilot.conversation.v1.WatchRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Checks each request against the contract and turns it into a store command. Every violation in a request is
 * reported at once, each with the path of its field, so a client can fix them all in one go.
 */
final class RequestValidator {
  private final RequestLimits limits;
  private final JsonObjectValidator json;

  RequestValidator(RequestLimits limits) {
    this.limits = limits;
    this.json = new JsonObjectValidator(limits.maxJsonDepth());
  }

  /**
   * Collects the violations of one request: the first {@link #MAX_LISTED}, and a count of the rest, so that no
   * request can make its error larger than a client accepts in trailers (grpc-java's default: 8 KiB).
   */
  private static final class Violations {
    static final int MAX_LISTED = 20;

    final List<FieldViolation> list = new ArrayList<>();
    int total;

    void add(String field, String description) {
      if (++total <= MAX_LISTED) {
        list.add(FieldViolation.newBuilder().setField(field).setDescription(description).build());
      }
    }

    InvalidRequestException exception() {
      return new InvalidRequestException(list, total);
    }

    void throwIfAny() {
      if (total > 0) {
        throw exception();
      }
    }
  }

  SaveCommand save(SaveRequest r, String tenant) {
    Violations v = new Violations();
    checkThreadId(v, r.getThreadId());
    List<NewMessage> messages = messages(v, r.getMessagesList(), true);
    checkNames(v, "cache_info", r.getCacheInfoMap());
    checkMetadata(v, "metadata", r.getMetadataMap());
    OptionalLong expected = expectedVersion(v, r.hasExpectedVersion(), r.getExpectedVersion());
    ExpiryChange expiry = expiry(v, r.hasExpiry(), r.getExpiry());
    v.throwIfAny();
    return new SaveCommand(new ThreadKey(tenant, r.getThreadId()), messages, r.getCacheInfoMap(),
        r.getMetadataMap(), expected, expiry);
  }

  AppendCommand append(AppendRequest r, String tenant) {
    Violations v = new Violations();
    checkThreadId(v, r.getThreadId());
    if (r.getMessagesCount() == 0) {
      v.add("messages", "must hold at least one message");
    }
    List<NewMessage> messages = messages(v, r.getMessagesList(), false);
    checkNames(v, "cache_info", r.getCacheInfoMap());
    OptionalLong expected = expectedVersion(v, r.hasExpectedVersion(), r.getExpectedVersion());
    ExpiryChange expiry = expiry(v, r.hasExpiry(), r.getExpiry());
    v.throwIfAny();
    return new AppendCommand(new ThreadKey(tenant, r.getThreadId()), messages, r.getCacheInfoMap(), expected,
        expiry);
  }

  ThreadKey get(GetRequest r, String tenant) {
    Violations v = new Violations();
    checkThreadId(v, r.getThreadId());
    if (r.getStartPosition() < 0) {
      v.add("start_position", "must not be negative");
    }
    if (r.getMaxMessages() < 0) {
      v.add("max_messages", "must not be negative");
    }
    v.throwIfAny();
    return new ThreadKey(tenant, r.getThreadId());
  }

  static MessageWindow window(GetRequest r) {
    return new MessageWindow(r.getStartPosition(), r.getMaxMessages());
  }

  UpdateCacheCommand updateCache(UpdateCacheRequest r, String tenant) {
    Violations v = new Violations();
    checkThreadId(v, r.getThreadId());
    checkNames(v, "cache_info", r.getCacheInfoMap());
    OptionalLong expected = expectedVersion(v, r.hasExpectedVersion(), r.getExpectedVersion());
    v.throwIfAny();
    return new UpdateCacheCommand(new ThreadKey(tenant, r.getThreadId()), r.getCacheInfoMap(), expected);
  }

  ClearCommand clear(ClearRequest r, String tenant) {
    Violations v = new Violations();
    checkThreadId(v, r.getThreadId());
    OptionalLong expected = expectedVersion(v, r.hasExpectedVersion(), r.getExpectedVersion());
    v.throwIfAny();
    return new ClearCommand(new ThreadKey(tenant, r.getThreadId()), expected);
  }

  UpdateMetadataCommand updateMetadata(UpdateMetadataRequest r, String tenant) {
    Violations v = new Violations();
    checkThreadId(v, r.getThreadId());
    checkMetadata(v, "set", r.getSetMap());
    checkNames(v, "cache_set", r.getCacheSetMap());
    Set<String> remove = removedKeys(v, "remove", r.getRemoveList(), r.getSetMap());
    Set<String> cacheRemove = removedKeys(v, "cache_remove", r.getCacheRemoveList(), r.getCacheSetMap());
    OptionalLong expected = expectedVersion(v, r.hasExpectedVersion(), r.getExpectedVersion());
    ExpiryChange expiry = expiry(v, r.hasExpiry(), r.getExpiry());
    v.throwIfAny();
    return new UpdateMetadataCommand(new ThreadKey(tenant, r.getThreadId()), r.getSetMap(), remove,
        r.getCacheSetMap(), cacheRemove, expected, expiry);
  }

  ForkCommand fork(ForkRequest r, String tenant) {
    Violations v = new Violations();
    checkThreadId(v, r.getThreadId());
    if (r.getNewThreadId().isEmpty()) {
      v.add("new_thread_id", "is required");
    } else {
      checkName(v, "new_thread_id", r.getNewThreadId());
    }
    if (r.hasEndPosition() && r.getEndPosition() < 0) {
      v.add("end_position", "must not be negative");
    }
    OptionalLong expected = expectedVersion(v, r.hasExpectedVersion(), r.getExpectedVersion());
    v.throwIfAny();
    return new ForkCommand(new ThreadKey(tenant, r.getThreadId()), new ThreadKey(tenant, r.getNewThreadId()),
        r.hasEndPosition() ? OptionalLong.of(r.getEndPosition()) : OptionalLong.empty(), expected);
  }

  /** The longest Search query, in characters, and the most parts (phrases) it may have. */
  static final int MAX_QUERY_LENGTH = 1024;
  static final int MAX_QUERY_PHRASES = 16;

  /** Validates a Search request; returns its phrases (the page token is checked by {@link PageTokens}). */
  List<List<String>> search(SearchRequest r) {
    Violations v = new Violations();
    List<List<String>> phrases = List.of();
    int length = r.getQuery().codePointCount(0, r.getQuery().length());
    if (r.getQuery().isBlank()) {
      v.add("query", "is required");
    } else if (length > MAX_QUERY_LENGTH) {
      v.add("query", "is " + length + " characters long; at most " + MAX_QUERY_LENGTH + " are allowed");
    } else {
      phrases = SearchText.phrases(r.getQuery());
      if (phrases.isEmpty()) {
        v.add("query", "holds no word (letters or digits) to search for");
      } else if (phrases.size() > MAX_QUERY_PHRASES) {
        v.add("query", "has " + phrases.size() + " parts; at most " + MAX_QUERY_PHRASES + " are allowed");
      }
    }
    if (r.getPageSize() < 0) {
      v.add("page_size", "must not be negative");
    }
    checkMetadata(v, "metadata_filter", r.getMetadataFilterMap());
    v.throwIfAny();
    return phrases;
  }

  /** The keys to remove: each a valid name, at most as many as a map may hold, none also being set. */
  private Set<String> removedKeys(Violations v, String field, List<String> keys, Map<String, ?> set) {
    if (keys.size() > limits.maxMapEntries()) {
      v.add(field, "has " + keys.size() + " keys; at most " + limits.maxMapEntries() + " are allowed");
      return Set.of();
    }
    for (int i = 0; i < keys.size(); i++) {
      String key = keys.get(i);
      if (key.isEmpty()) {
        v.add(field + "[" + i + "]", "is empty");
      } else {
        checkName(v, field + "[" + i + "]", key);
        if (set.containsKey(key)) {
          v.add(field + "[" + i + "]", "is also set in this request; a key is either set or removed");
        }
      }
    }
    return new HashSet<>(keys);
  }

  /** A Watch request as a query of the change log, from its start version (one page at a time). */
  ChangeQuery watch(WatchRequest r, String tenant, int pageSize) {
    Violations v = new Violations();
    if (!r.getThreadId().isEmpty()) {
      checkThreadId(v, r.getThreadId());
    }
    if (r.getStartVersion() < 0) {
      v.add("start_version", "must not be negative");
    }
    checkMetadata(v, "metadata_filter", r.getMetadataFilterMap());
    v.throwIfAny();
    return new ChangeQuery(tenant, r.getThreadId(), r.getStartVersion(), pageSize);
  }

  /** Validates a List request's size and filter; the page token is checked by {@link PageTokens}. */
  void list(ListRequest r) {
    Violations v = new Violations();
    if (r.getPageSize() < 0) {
      v.add("page_size", "must not be negative");
    }
    checkMetadata(v, "metadata_filter", r.getMetadataFilterMap());
    v.throwIfAny();
  }

  /** At most this many thread ids in one Export's filter. */
  static final int MAX_EXPORT_THREAD_IDS = 10_000;

  /** An Export's filters as the first page's query ({@code pageSize} conversations a page). */
  ExportQuery export(ExportRequest r, String tenant, int pageSize) {
    Violations v = new Violations();
    checkMetadata(v, "metadata_filter", r.getMetadataFilterMap());
    Optional<Instant> after = r.hasUpdatedAfter() ? time(v, "updated_after", r.getUpdatedAfter()) : Optional.empty();
    Optional<Instant> before = r.hasUpdatedBefore() ? time(v, "updated_before", r.getUpdatedBefore()) : Optional.empty();
    if (r.getThreadIdsCount() > MAX_EXPORT_THREAD_IDS) {
      v.add("thread_ids", "holds " + r.getThreadIdsCount() + " ids; at most " + MAX_EXPORT_THREAD_IDS
          + " are allowed");
    } else {
      for (int i = 0; i < r.getThreadIdsCount(); i++) {
        checkThreadId(v, "thread_ids[" + i + "]", r.getThreadIds(i));
      }
    }
    if (!r.getStartAfterThreadId().isEmpty()) {
      checkName(v, "start_after_thread_id", r.getStartAfterThreadId());
    }
    v.throwIfAny();
    return new ExportQuery(tenant, r.getStartAfterThreadId(), pageSize, r.getMetadataFilterMap(), after, before,
        Set.copyOf(r.getThreadIdsList()));
  }

  /**
   * An Import record as a command. Times are kept to the microsecond, as every backend keeps them; an unset
   * message time is the record's create time, an unset create time now, an unset update time the create time.
   */
  ImportCommand importRecord(ImportRequest r, String tenant, Instant now) {
    Violations v = new Violations();
    if (!r.hasConversation()) {
      v.add("conversation", "is required");
      v.throwIfAny();
    }
    ConversationRecord c = r.getConversation();
    checkThreadId(v, "conversation.thread_id", c.getThreadId());
    List<NewMessage> messages = messages(v, "conversation.messages", c.getMessagesList(), true, false);
    checkNames(v, "conversation.cache_info", c.getCacheInfoMap());
    checkMetadata(v, "conversation.metadata", c.getMetadataMap());
    Instant created = c.hasCreateTime()
        ? time(v, "conversation.create_time", c.getCreateTime()).orElse(now) : now.truncatedTo(ChronoUnit.MICROS);
    Instant updated = c.hasUpdateTime() ? time(v, "conversation.update_time", c.getUpdateTime()).orElse(now) : created;
    Instant expires = c.hasExpireTime() ? time(v, "conversation.expire_time", c.getExpireTime()).orElse(null) : null;
    List<ImportedMessage> timed = new ArrayList<>(messages.size());
    for (int i = 0; i < messages.size(); i++) {
      Message m = c.getMessages(i);
      Instant at = m.hasCreateTime()
          ? time(v, "conversation.messages[" + i + "].create_time", m.getCreateTime()).orElse(now) : created;
      timed.add(new ImportedMessage(messages.get(i), at));
    }
    ExistingPolicy policy = switch (r.getOnExisting()) {
      case EXISTING_CONVERSATION_POLICY_SKIP -> ExistingPolicy.SKIP;
      case EXISTING_CONVERSATION_POLICY_REPLACE -> ExistingPolicy.REPLACE;
      case EXISTING_CONVERSATION_POLICY_FAIL, EXISTING_CONVERSATION_POLICY_UNSPECIFIED -> ExistingPolicy.FAIL;
      default -> {
        v.add("on_existing", "is not a known policy: " + r.getOnExistingValue());
        yield ExistingPolicy.FAIL;
      }
    };
    v.throwIfAny();
    return new ImportCommand(new ThreadKey(tenant, c.getThreadId()), timed, c.getCacheInfoMap(), c.getMetadataMap(),
        created, updated, expires, policy);
  }

  /** A Backup's target: an absolute path. */
  static Path backup(BackupRequest r) {
    Violations v = new Violations();
    Path path = null;
    if (r.getPath().isEmpty()) {
      v.add("path", "is required");
    } else {
      try {
        path = Path.of(r.getPath());
        if (!path.isAbsolute()) {
          v.add("path", "must be absolute");
        }
      } catch (InvalidPathException e) {
        v.add("path", "is not a valid path: " + e.getReason());
      }
    }
    v.throwIfAny();
    return path;
  }

  /** How far ahead an expire time may be: far enough for "keep", near enough that no time arithmetic overflows. */
  static final Duration MAX_EXPIRY = Duration.ofDays(36_525);

  /** The expiry change of a write: keep when unset; exactly one of its fields, within the limits, when set. */
  private static ExpiryChange expiry(Violations v, boolean present, Expiry e) {
    if (!present) {
      return ExpiryChange.KEEP;
    }
    switch (e.getChangeCase()) {
      case EXPIRE_TIME -> {
        Optional<Instant> at = time(v, "expiry.expire_time", e.getExpireTime());
        if (at.isEmpty()) {
          return ExpiryChange.KEEP;
        }
        Instant now = Instant.now();
        if (!at.get().isAfter(now) || at.get().isAfter(now.plus(MAX_EXPIRY))) {
          v.add("expiry.expire_time", "must be after the server's current time (" + now
              + ") and at most 100 years after it");
          return ExpiryChange.KEEP;
        }
        return ExpiryChange.at(at.get());
      }
      case TTL -> {
        com.google.protobuf.Duration d = e.getTtl();
        // A negative one has negative seconds or nanos (protobuf keeps their signs alike).
        boolean wellFormed = d.getSeconds() >= 0 && d.getNanos() >= 0 && d.getNanos() <= 999_999_999
            && d.getSeconds() <= MAX_EXPIRY.getSeconds();
        Duration ttl = wellFormed
            ? Duration.ofSeconds(d.getSeconds(), d.getNanos()).truncatedTo(ChronoUnit.MICROS) : Duration.ZERO;
        if (ttl.isZero() || ttl.compareTo(MAX_EXPIRY) > 0) {
          v.add("expiry.ttl", "must be positive and at most 100 years");
          return ExpiryChange.KEEP;
        }
        return ExpiryChange.after(ttl);
      }
      case CLEAR -> {
        if (!e.getClear()) {
          v.add("expiry.clear", "must be true to clear the expire time (leave expiry unset to keep it)");
        }
        return ExpiryChange.CLEAR;
      }
      default -> {
        v.add("expiry", "must set one of expire_time, ttl and clear (leave expiry unset to keep the expire time)");
        return ExpiryChange.KEEP;
      }
    }
  }

  /** A timestamp within the range protobuf allows (years 1 to 9999), to the microsecond. */
  private static Optional<Instant> time(Violations v, String field, Timestamp t) {
    if (t.getSeconds() < -62_135_596_800L || t.getSeconds() > 253_402_300_799L || t.getNanos() < 0
        || t.getNanos() > 999_999_999) {
      v.add(field, "is not a valid timestamp");
      return Optional.empty();
    }
    return Optional.of(Instant.ofEpochSecond(t.getSeconds(), t.getNanos()).truncatedTo(ChronoUnit.MICROS));
  }

  static InvalidRequestException invalid(String field, String description) {
    Violations v = new Violations();
    v.add(field, description);
    return v.exception();
  }

  private static OptionalLong expectedVersion(Violations v, boolean present, long value) {
    if (present && value < 0) {
      v.add("expected_version", "must not be negative");
    }
    return present ? OptionalLong.of(value) : OptionalLong.empty();
  }

  private List<NewMessage> messages(Violations v, List<Message> messages, boolean idsMustBeUnique) {
    return messages(v, "messages", messages, idsMustBeUnique, true);
  }

  /**
   * @param countLimited whether {@code RequestLimits.maxMessagesPerRequest} applies: not to an import, whose
   *     record is a whole conversation as a store already held it (Appends may have grown it past that count);
   *     its size is bounded by the history limit and gRPC's request size
   */
  private List<NewMessage> messages(Violations v, String path, List<Message> messages, boolean idsMustBeUnique,
      boolean countLimited) {
    if (countLimited && messages.size() > limits.maxMessagesPerRequest()) {
      v.add(path, "holds " + messages.size() + " messages; at most " + limits.maxMessagesPerRequest()
          + " are allowed in one request");
      return List.of();
    }
    List<NewMessage> result = new ArrayList<>(messages.size());
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < messages.size(); i++) {
      Message m = messages.get(i);
      String field = path + "[" + i + "]";
      if (!m.getId().isEmpty()) {
        checkName(v, field + ".id", m.getId());
        if (!ids.add(m.getId()) && idsMustBeUnique) {
          v.add(field + ".id", "repeats the id of an earlier message in this request");
        }
      }
      NewMessage message = new NewMessage(m.getId(), m.getJson());
      if (message.utf8Bytes() > limits.maxMessageBytes()) {
        v.add(field + ".json", "is " + message.utf8Bytes() + " bytes; at most " + limits.maxMessageBytes()
            + " are allowed");
      } else {
        json.problem(m.getJson()).ifPresent(problem -> v.add(field + ".json", problem));
      }
      result.add(message);
    }
    return result;
  }

  private void checkThreadId(Violations v, String threadId) {
    checkThreadId(v, "thread_id", threadId);
  }

  private static void checkThreadId(Violations v, String field, String threadId) {
    if (threadId.isEmpty()) {
      v.add(field, "is required");
    } else {
      checkName(v, field, threadId);
    }
  }

  private void checkNames(Violations v, String field, Map<String, ?> map) {
    if (map.size() > limits.maxMapEntries()) {
      v.add(field, "has " + map.size() + " entries; at most " + limits.maxMapEntries() + " are allowed");
    }
    for (String key : map.keySet()) {
      if (key.isEmpty()) {
        v.add(field, "has an empty key");
      } else {
        checkName(v, field + "[" + EchoedText.of(key) + "]", key);
      }
    }
  }

  private void checkMetadata(Violations v, String field, Map<String, String> map) {
    checkNames(v, field, map);
    map.forEach((key, value) -> {
      long bytes = Utf8.encodedLength(value);
      if (bytes > limits.maxMetadataValueBytes()) {
        v.add(field + "[" + EchoedText.of(key) + "]", "value is " + bytes + " bytes; at most " + limits.maxMetadataValueBytes()
            + " are allowed");
      }
    });
  }

  /** Names (thread ids, message ids, map keys): 1 to 256 code points, no control characters. */
  private static void checkName(Violations v, String field, String name) {
    int length = name.codePointCount(0, name.length());
    if (length > RequestLimits.MAX_NAME_LENGTH) {
      v.add(field, "is " + length + " characters long; at most " + RequestLimits.MAX_NAME_LENGTH + " are allowed");
    } else if (name.codePoints().anyMatch(Character::isISOControl)) {
      v.add(field, "must not contain control characters");
    }
  }
}
