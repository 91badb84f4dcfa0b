package io.vmpilot.conversation.server.grpc;

import com.google.rpc.ErrorInfo;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.vmpilot.conversation.server.auth.Tenants;
import io.vmpilot.conversation.server.store.ConversationStore;
import io.vmpilot.conversation.server.store.ConversationSummary;
import io.vmpilot.conversation.server.store.ExportQuery;
import io.vmpilot.conversation.server.store.ImportOutcome;
import io.vmpilot.conversation.server.store.MessageWindow;
import io.vmpilot.conversation.server.store.command.ImportCommand;
import io.vmpilot.conversation.server.store.error.ConversationExistsException;
import io.vmpilot.conversation.server.store.error.HistoryTooLargeException;
import io.vmpilot.conversation.server.store.error.TenantConversationLimitException;
import io.vmpilot.conversation.v1.BackupRequest;
import io.vmpilot.conversation.v1.BackupResponse;
import io.vmpilot.conversation.v1.ConversationAdminServiceGrpc;
import io.vmpilot.conversation.v1.ExportRequest;
import io.vmpilot.conversation.v1.ExportResponse;
import io.vmpilot.conversation.v1.GetServerStatusRequest;
import io.vmpilot.conversation.v1.GetServerStatusResponse;
import io.vmpilot.conversation.v1.ImportFailure;
import io.vmpilot.conversation.v1.ImportRequest;
import io.vmpilot.conversation.v1.ImportResponse;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The gRPC face of the store as a whole: Export, Import, GetServerStatus, Backup. Everything here may wait on
 * storage, so it all runs on the blocking executor; the streams keep to the transport's flow control, so neither
 * an export nor an import holds more than a page of conversations in memory, whatever the store's size.
 */
public final class ConversationAdminService extends ConversationAdminServiceGrpc.ConversationAdminServiceImplBase {
  /** Conversations an export reads per page (their summaries; each conversation is then read on its own). */
  static final int EXPORT_PAGE_SIZE = 32;
  /** Failures an Import response lists (all are counted). */
  static final int MAX_LISTED_FAILURES = 1000;

  private final ConversationStore store;
  private final RequestValidator validator;
  private final ErrorMapper errors = new ErrorMapper();
  private final Executor blocking;
  private final String serverVersion;
  private final Clock clock;

  /** @param blockingExecutor runs everything here; the caller owns and shuts it down */
  public ConversationAdminService(ConversationStore store, RequestLimits limits, Executor blockingExecutor,
      String serverVersion) {
    this.store = store;
    this.validator = new RequestValidator(limits);
    this.blocking = Context.currentContextExecutor(blockingExecutor);
    this.serverVersion = serverVersion;
    this.clock = Clock.systemUTC();
  }

  @Override
  public void getServerStatus(GetServerStatusRequest request, StreamObserver<GetServerStatusResponse> response) {
    unary("GetServerStatus", response, () -> ProtoMapper.status(store.status(Tenants.current()), serverVersion,
        Duration.ofMillis(ManagementFactory.getRuntimeMXBean().getUptime())));
  }

  @Override
  public void backup(BackupRequest request, StreamObserver<BackupResponse> response) {
    unary("Backup", response, () -> {
      Path target = RequestValidator.backup(request);
      long start = System.nanoTime();
      long bytes = store.backup(target);
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      return BackupResponse.newBuilder().setPath(target.toString()).setBytes(bytes)
          .setDuration(com.google.protobuf.Duration.newBuilder().setSeconds(took.getSeconds())
              .setNanos(took.getNano()))
          .build();
    });
  }

  private <T> void unary(String rpc, StreamObserver<T> response, java.util.function.Supplier<T> body) {
    CompletableFuture.supplyAsync(body, blocking).whenComplete((result, failure) -> {
      if (failure != null) {
        response.onError(errors.toStatus(rpc, "", failure.getCause() != null ? failure.getCause() : failure));
      } else {
        response.onNext(result);
        response.onCompleted();
      }
    });
  }

  @Override
  public void export(ExportRequest request, StreamObserver<ExportResponse> response) {
    ServerCallStreamObserver<ExportResponse> call = (ServerCallStreamObserver<ExportResponse>) response;
    ExportQuery first;
    try {
      first = validator.export(request, Tenants.current(), EXPORT_PAGE_SIZE);
    } catch (RuntimeException e) {
      call.onError(errors.toStatus("Export", "", e));
      return;
    }
    ExportStream stream = new ExportStream(call, first);
    call.setOnCancelHandler(stream::cancel);
    call.setOnReadyHandler(stream::schedule);
    stream.schedule();
  }

  /**
   * Sends one conversation at a time while the transport is ready for more, reading the next page of summaries
   * when the last is used up. One drain runs at a time (on the blocking executor); when the transport stops being
   * ready the drain returns and the next on-ready event starts another, so a slow client holds no thread.
   */
  private final class ExportStream {
    private final ServerCallStreamObserver<ExportResponse> call;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Deque<ConversationSummary> page = new ArrayDeque<>();
    private ExportQuery next;
    private boolean lastPage;
    private volatile boolean done;

    ExportStream(ServerCallStreamObserver<ExportResponse> call, ExportQuery first) {
      this.call = call;
      this.next = first;
    }

    void cancel() {
      done = true;
    }

    void schedule() {
      if (!done && scheduled.compareAndSet(false, true)) {
        blocking.execute(this::drain);
      }
    }

    private void drain() {
      try {
        while (!done && call.isReady()) {
          step();
        }
      } catch (RuntimeException | Error e) {
        if (!done) {
          done = true;
          call.onError(errors.toStatus("Export", "", e));
        }
        return;
      } finally {
        scheduled.set(false);
      }
      // The transport may have become ready between the last check and clearing the flag.
      if (!done && call.isReady()) {
        schedule();
      }
    }

    private void step() {
      if (page.isEmpty()) {
        if (lastPage) {
          done = true;
          call.onCompleted();
          return;
        }
        var found = store.listByThreadId(next);
        page.addAll(found);
        lastPage = found.size() < next.limit();
        if (!found.isEmpty()) {
          next = new ExportQuery(next.tenant(), found.get(found.size() - 1).key().threadId(), next.limit(),
              next.metadataFilter(), next.updatedAfter(), next.updatedBefore(), next.threadIds());
        }
        return;
      }
      ConversationSummary s = page.removeFirst();
      // Read whole and on its own: a Save racing the export is in the record entirely or not at all. A
      // conversation deleted since its page was read is left out.
      store.get(s.key(), MessageWindow.ALL).ifPresent(c -> call.onNext(
          ExportResponse.newBuilder().setConversation(ProtoMapper.record(c)).build()));
    }
  }

  @Override
  public StreamObserver<ImportRequest> import_(StreamObserver<ImportResponse> response) {
    return new ImportStream((ServerCallStreamObserver<ImportResponse>) response, Tenants.current());
  }

  /**
   * Takes one record at a time: asks the transport for the next only once the last is stored, so records queue in
   * the client, not here. Records are stored in stream order on the blocking executor; the summary goes out
   * after the last.
   */
  private final class ImportStream implements StreamObserver<ImportRequest> {
    private final ServerCallStreamObserver<ImportResponse> call;
    private final String tenant;
    private final ImportResponse.Builder summary = ImportResponse.newBuilder();
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
    private long index;
    private volatile boolean aborted;

    ImportStream(ServerCallStreamObserver<ImportResponse> call, String tenant) {
      this.call = call;
      this.tenant = tenant;
      call.disableAutoRequest();
      call.request(1);
    }

    @Override
    public void onNext(ImportRequest request) {
      long at = index++;
      tail = tail.thenRunAsync(() -> {
        if (aborted) {
          return;
        }
        try {
          store(at, request);
          call.request(1);
        } catch (RuntimeException | Error e) {
          // Storage failed: the whole call fails at once; what was stored before stays (importing again skips it).
          aborted = true;
          call.onError(errors.toStatus("Import", request.getConversation().getThreadId(), e));
        }
      }, blocking);
    }

    private void store(long at, ImportRequest request) {
      String threadId = request.getConversation().getThreadId();
      try {
        ImportCommand command = validator.importRecord(request, tenant, clock.instant().truncatedTo(ChronoUnit.MICROS));
        ImportOutcome outcome = store.importConversation(command);
        switch (outcome) {
          case CREATED -> summary.setImported(summary.getImported() + 1);
          case REPLACED -> summary.setReplaced(summary.getReplaced() + 1);
          case UNCHANGED, KEPT_EXISTING, EXPIRED -> summary.setSkipped(summary.getSkipped() + 1);
          default -> throw new IllegalStateException("unknown outcome " + outcome);
        }
      } catch (InvalidRequestException | ConversationExistsException | HistoryTooLargeException
          | TenantConversationLimitException e) {
        // The record's own fault: counted, and the import goes on. The reason is the one its RPC error would carry.
        StatusRuntimeException status = errors.toStatus("Import", threadId, e);
        summary.setFailed(summary.getFailed() + 1);
        if (summary.getFailuresCount() < MAX_LISTED_FAILURES) {
          summary.addFailures(ImportFailure.newBuilder().setIndex(at).setThreadId(threadId)
              .setReason(reason(status)).setMessage(e.getMessage()));
        }
      }
    }

    private static String reason(StatusRuntimeException status) {
      com.google.rpc.Status proto = StatusProto.fromThrowable(status);
      if (proto != null) {
        for (com.google.protobuf.Any detail : proto.getDetailsList()) {
          if (detail.is(ErrorInfo.class)) {
            try {
              return detail.unpack(ErrorInfo.class).getReason();
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
              break;
            }
          }
        }
      }
      return status.getStatus().getCode().name();
    }

    @Override
    public void onError(Throwable t) {
      aborted = true;
    }

    @Override
    public void onCompleted() {
      tail = tail.thenRunAsync(() -> {
        if (!aborted) {
          call.onNext(summary.build());
          call.onCompleted();
        }
      }, blocking);
    }
  }
}
