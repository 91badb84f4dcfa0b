package io.vmpilot.conversation.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.ConversationAdminServiceGrpc;
import io.vmpilot.conversation.v1.ConversationRecord;
import io.vmpilot.conversation.v1.ExportRequest;
import io.vmpilot.conversation.v1.ExportResponse;
import io.vmpilot.conversation.v1.GetServerStatusRequest;
import io.vmpilot.conversation.v1.GetServerStatusResponse;
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** convctl export over a server whose stream drops: it resumes after the last record it wrote, losing nothing. */
class ExportResumeTest {
  @TempDir
  Path dir;

  /** Ten conversations; the first stream drops (UNAVAILABLE) after three records. */
  static final class DroppingServer extends ConversationAdminServiceGrpc.ConversationAdminServiceImplBase {
    final List<String> cursors = new CopyOnWriteArrayList<>();

    @Override
    public void getServerStatus(GetServerStatusRequest request, StreamObserver<GetServerStatusResponse> response) {
      response.onNext(GetServerStatusResponse.newBuilder().setBackend("fake").setConversationCount(10).build());
      response.onCompleted();
    }

    @Override
    public void export(ExportRequest request, StreamObserver<ExportResponse> response) {
      cursors.add(request.getStartAfterThreadId());
      int sent = 0;
      for (int i = 0; i < 10; i++) {
        String id = "t" + i;
        if (id.compareTo(request.getStartAfterThreadId()) <= 0) {
          continue;
        }
        if (cursors.size() == 1 && sent == 3) {
          response.onError(Status.UNAVAILABLE.withDescription("connection reset").asRuntimeException());
          return;
        }
        response.onNext(ExportResponse.newBuilder().setConversation(ConversationRecord.newBuilder().setThreadId(id))
            .build());
        sent++;
      }
      response.onCompleted();
    }
  }

  @Test
  void aDroppedExportResumesAfterItsLastRecord() throws Exception {
    DroppingServer service = new DroppingServer();
    String name = InProcessServerBuilder.generateName();
    Server server = InProcessServerBuilder.forName(name).directExecutor().addService(service).build().start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      Convctl convctl = new Convctl();
      convctl.clients = () -> ConversationClient.over(channel, Duration.ofSeconds(10));
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Path dump = dir.resolve("dump.jsonl");
      int code = Convctl.run(convctl, new String[] {"export", dump.toString()}, System.out,
          new PrintStream(err, true, StandardCharsets.UTF_8));
      assertThat(code).isZero();
      assertThat(service.cursors).containsExactly("", "t2");
      assertThat(err.toString(StandardCharsets.UTF_8)).contains("the stream dropped after 3 conversations");
      List<String> ids = new ArrayList<>();
      try (FileInputStream in = new FileInputStream(dump.toFile())) {
        DumpReader.read(in, (line, r) -> ids.add(r.getThreadId()));
      }
      assertThat(ids).containsExactly("t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9");
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }
}
