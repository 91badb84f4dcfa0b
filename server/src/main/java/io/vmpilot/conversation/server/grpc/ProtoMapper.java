package io.vmpilot.conversation.server.grpc;

import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.Timestamp;
import io.vmpilot.conversation.server.store.ChangeEvent;
import io.vmpilot.conversation.server.store.ConversationSummary;
import io.vmpilot.conversation.server.store.StoredMessage;
import io.vmpilot.conversation.server.store.StoreStatus;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.ConversationRecord;
import io.vmpilot.conversation.v1.GetServerStatusResponse;
import io.vmpilot.conversation.v1.Message;
import io.vmpilot.conversation.v1.WatchResponse;
import java.time.Instant;

/** Store records to their wire form. */
final class ProtoMapper {
  private ProtoMapper() {}

  /** A whole conversation as Export sends it: what belongs to it, not the store's version or sizes. */
  static ConversationRecord record(io.vmpilot.conversation.server.store.Conversation c) {
    Conversation full = conversation(c);
    ConversationRecord.Builder b = ConversationRecord.newBuilder()
        .setThreadId(full.getThreadId())
        .addAllMessages(full.getMessagesList())
        .putAllCacheInfo(full.getCacheInfoMap())
        .putAllMetadata(full.getMetadataMap())
        .setCreateTime(full.getCreateTime())
        .setUpdateTime(full.getUpdateTime());
    if (full.hasExpireTime()) {
      b.setExpireTime(full.getExpireTime());
    }
    return b.build();
  }

  static GetServerStatusResponse status(StoreStatus s, String serverVersion, java.time.Duration uptime) {
    return GetServerStatusResponse.newBuilder()
        .setServerVersion(serverVersion)
        .setBackend(s.backend())
        .setSchemaVersion(s.schemaVersion())
        .setDatabaseLocation(s.databaseLocation())
        .setDatabaseBytes(s.databaseBytes())
        .setConversationCount(s.conversations())
        .setMessageCount(s.messages())
        .setDurability(s.durability())
        .setUptime(com.google.protobuf.Duration.newBuilder().setSeconds(uptime.getSeconds())
            .setNanos(uptime.getNano()))
        .build();
  }

  static Conversation conversation(io.vmpilot.conversation.server.store.Conversation c) {
    ConversationSummary s = c.summary();
    Conversation.Builder b = Conversation.newBuilder()
        .setThreadId(s.key().threadId())
        .putAllCacheInfo(s.cacheInfo())
        .putAllMetadata(s.metadata())
        .setVersion(s.version())
        .setCreateTime(timestamp(s.createTime()))
        .setUpdateTime(timestamp(s.updateTime()))
        .setMessageCount(s.messageCount())
        .setHistoryBytes(s.historyBytes());
    if (s.expireTime() != null) {
      b.setExpireTime(timestamp(s.expireTime()));
    }
    for (StoredMessage m : c.messages()) {
      b.addMessages(message(s.key().threadId(), m));
    }
    return b.build();
  }

  private static Message message(String threadId, StoredMessage m) {
    Message.Builder message = Message.newBuilder()
        .setId(m.id())
        .setPosition(m.position())
        .setCreateTime(timestamp(m.createTime()));
    try {
      // The bytes as the store has them, not copied (nothing writes to them); protobuf checks that a string
      // field's bytes are UTF-8 as they are set.
      message.setJsonBytes(UnsafeByteOperations.unsafeWrap(m.json().unsafeUtf8Array()));
    } catch (IllegalArgumentException notUtf8) {
      throw new CorruptStoredMessageException(threadId, m.position(), notUtf8);
    }
    return message.build();
  }

  static WatchResponse change(ChangeEvent e) {
    WatchResponse.Builder b = WatchResponse.newBuilder()
        .setThreadId(e.key().threadId())
        .setVersion(e.version())
        .setKind(switch (e.kind()) {
          case APPENDED -> io.vmpilot.conversation.v1.ChangeKind.CHANGE_KIND_APPENDED;
          case REPLACED -> io.vmpilot.conversation.v1.ChangeKind.CHANGE_KIND_REPLACED;
          case CACHE_UPDATED -> io.vmpilot.conversation.v1.ChangeKind.CHANGE_KIND_CACHE_UPDATED;
          case METADATA_UPDATED -> io.vmpilot.conversation.v1.ChangeKind.CHANGE_KIND_METADATA_UPDATED;
          case CLEARED -> io.vmpilot.conversation.v1.ChangeKind.CHANGE_KIND_CLEARED;
          case REWRITTEN -> io.vmpilot.conversation.v1.ChangeKind.CHANGE_KIND_REWRITTEN;
        })
        .setFirstPosition(e.firstPosition())
        .setMessageCount(e.messageCount())
        .setCommitTime(timestamp(e.commitTime()));
    for (StoredMessage m : e.messages()) {
      b.addMessages(message(e.key().threadId(), m));
    }
    return b.build();
  }

  static io.vmpilot.conversation.v1.ConversationSummary summary(ConversationSummary s) {
    io.vmpilot.conversation.v1.ConversationSummary.Builder b = io.vmpilot.conversation.v1.ConversationSummary.newBuilder()
        .setThreadId(s.key().threadId())
        .setMessageCount(s.messageCount())
        .putAllMetadata(s.metadata())
        .putAllCacheInfo(s.cacheInfo())
        .setVersion(s.version())
        .setCreateTime(timestamp(s.createTime()))
        .setUpdateTime(timestamp(s.updateTime()))
        .setHistoryBytes(s.historyBytes());
    if (s.expireTime() != null) {
      b.setExpireTime(timestamp(s.expireTime()));
    }
    return b.build();
  }

  static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
  }
}
