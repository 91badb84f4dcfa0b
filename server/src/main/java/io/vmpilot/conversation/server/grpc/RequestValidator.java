package io.vmpilot.conversation.server.grpc;

import com.google.common.base.Utf8;
import com.google.rpc.BadRequest.FieldViolation;
import io.vmpilot.conversation.server.store.ChangeQuery;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.NewMessage;
import io.vmpilot.conversation.server.store.ThreadKey;
import io.vmpilot.conversation.server.store.command.AppendCommand;
import io.vmpilot.conversation.server.store.command.ClearCommand;
import io.vmpilot.conversation.server.store.command.SaveCommand;
import io.vmpilot.conversation.server.store.command.UpdateCacheCommand;
import io.vmpilot.conversation.v1.AppendRequest;
import io.vmpilot.conversation.v1.ClearRequest;
import io.vmpilot.conversation.v1.GetRequest;
import io.vmpilot.conversation.v1.ListRequest;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.SaveRequest;
import io.vmpilot.conversation.v1.UpdateCacheRequest;
import io.vmpilot.conversation.v1.WatchRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
    v.throwIfAny();
    return new SaveCommand(new ThreadKey(tenant, r.getThreadId()), messages, r.getCacheInfoMap(),
        r.getMetadataMap(), expected);
  }

  AppendCommand append(AppendRequest r, String tenant) {
    Violations v = new Violations();
    checkThreadId(v, r.getThreadId());
    if (r.getMessagesCount() == 0) {
      v.add("messages", "must hold at least one message");
    }
    List<NewMessage> messages = messages(v, r.getMessagesList(), false);
    OptionalLong expected = expectedVersion(v, r.hasExpectedVersion(), r.getExpectedVersion());
    v.throwIfAny();
    return new AppendCommand(new ThreadKey(tenant, r.getThreadId()), messages, expected);
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

  /** A Watch request as a query of the change log, from its start version (one page at a time). */
  ChangeQuery watch(WatchRequest r, String tenant, int pageSize) {
    Violations v = new Violations();
    if (!r.getThreadId().isEmpty()) {
      checkThreadId(v, r.getThreadId());
    }
    if (r.getStartVersion() < 0) {
      v.add("start_version", "must not be negative");
    }
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
    if (messages.size() > limits.maxMessagesPerRequest()) {
      v.add("messages", "holds " + messages.size() + " messages; at most " + limits.maxMessagesPerRequest()
          + " are allowed in one request");
      return List.of();
    }
    List<NewMessage> result = new ArrayList<>(messages.size());
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < messages.size(); i++) {
      Message m = messages.get(i);
      String field = "messages[" + i + "]";
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
    if (threadId.isEmpty()) {
      v.add("thread_id", "is required");
    } else {
      checkName(v, "thread_id", threadId);
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
