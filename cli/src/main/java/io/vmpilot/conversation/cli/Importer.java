package io.vmpilot.conversation.cli;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.ConversationRecord;
import io.vmpilot.conversation.v1.ExistingConversationPolicy;
import io.vmpilot.conversation.v1.ImportRequest;
import io.vmpilot.conversation.v1.ImportResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * One Import call: sends records as the transport takes them (it waits while the server is busy, so a large
 * dump never piles up in memory), then half-closes and returns the server's summary.
 */
final class Importer {
  private final ClientCallStreamObserver<ImportRequest> requests;
  private final CompletableFuture<ImportResponse> response = new CompletableFuture<>();
  private final Object ready = new Object();
  private final ExistingConversationPolicy policy;

  Importer(ConversationClient client, ExistingConversationPolicy policy) {
    this.policy = policy;
    CompletableFuture<ClientCallStreamObserver<ImportRequest>> started = new CompletableFuture<>();
    client.adminAsyncStub().import_(new ClientResponseObserver<ImportRequest, ImportResponse>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<ImportRequest> stream) {
        stream.setOnReadyHandler(() -> {
          synchronized (ready) {
            ready.notifyAll();
          }
        });
        started.complete(stream);
      }

      @Override
      public void onNext(ImportResponse value) {
        response.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        response.completeExceptionally(t);
        synchronized (ready) {
          ready.notifyAll();
        }
      }

      @Override
      public void onCompleted() {
        response.complete(ImportResponse.getDefaultInstance());
      }
    });
    this.requests = started.join();
  }

  /** Sends one record, first waiting until the transport takes more (or the call failed). */
  void send(ConversationRecord record) throws InterruptedException {
    synchronized (ready) {
      while (!requests.isReady() && !response.isDone()) {
        ready.wait(1000);
      }
    }
    if (response.isDone()) {
      finish(); // the call failed already: throws its error
    }
    requests.onNext(ImportRequest.newBuilder().setConversation(record).setOnExisting(policy).build());
  }

  /** Half-closes and waits for the summary. */
  ImportResponse finish() throws InterruptedException {
    if (!response.isDone()) {
      requests.onCompleted();
    }
    try {
      return response.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException sre) {
        throw sre;
      }
      throw new IllegalStateException(e.getCause());
    }
  }
}
