package io.vmpilot.conversation.cli;

import com.google.gson.JsonObject;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.ConversationRecord;
import io.vmpilot.conversation.v1.ExportRequest;
import io.vmpilot.conversation.v1.ExportResponse;
import io.vmpilot.conversation.v1.GetServerStatusRequest;
import io.vmpilot.conversation.v1.GetServerStatusResponse;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "export", mixinStandardHelpOptions = true,
    description = "Writes this tenant's conversations (all, or those the filters select) to FILE as a dump"
        + " (docs/dump-format.md), in thread id order. A dropped stream is resumed where it stopped. FILE is"
        + " written as FILE.partial and renamed when complete; - (the default) writes to stdout.")
final class ExportCommand implements Callable<Integer> {
  @ParentCommand
  Convctl convctl;

  @Parameters(paramLabel = "FILE", arity = "0..1", defaultValue = "-", description = "The dump to write, or -.")
  String file;

  @Option(names = "--filter", paramLabel = "KEY=VALUE", description = "Only conversations with this metadata.")
  Map<String, String> filter = new LinkedHashMap<>();

  @Option(names = "--thread", paramLabel = "THREAD", description = "Only these conversations (repeatable).")
  List<String> threads = new ArrayList<>();

  @Option(names = "--updated-after", paramLabel = "TIME",
      description = "Only conversations changed at or after TIME (ISO-8601, e.g. 2024-05-01T00:00:00Z).")
  String updatedAfter;

  @Option(names = "--updated-before", paramLabel = "TIME", description = "Only conversations changed before TIME.")
  String updatedBefore;

  @Option(names = "--retries", defaultValue = "5",
      description = "How many times a dropped stream is resumed (default: ${DEFAULT-VALUE}).")
  int retries;

  @Override
  public Integer call() throws Exception {
    ExportRequest.Builder request = ExportRequest.newBuilder().putAllMetadataFilter(filter).addAllThreadIds(threads);
    if (updatedAfter != null) {
      request.setUpdatedAfter(timestamp("--updated-after", updatedAfter));
    }
    if (updatedBefore != null) {
      request.setUpdatedBefore(timestamp("--updated-before", updatedBefore));
    }
    try (ConversationClient client = convctl.connect()) {
      GetServerStatusResponse status = client.adminStub()
          .withDeadlineAfter(convctl.connection.deadlineSeconds, TimeUnit.SECONDS)
          .getServerStatus(GetServerStatusRequest.getDefaultInstance());
      JsonObject source = new JsonObject();
      source.addProperty("kind", "server");
      source.addProperty("address", convctl.connection.target());
      source.addProperty("backend", status.getBackend());
      source.addProperty("server_version", status.getServerVersion());
      boolean filtered = !filter.isEmpty() || !threads.isEmpty() || updatedAfter != null || updatedBefore != null;
      Progress progress = new Progress(convctl.err, Progress.stderrIsTerminal(), "exported",
          filtered ? 0 : status.getConversationCount());
      boolean toStdout = file.equals("-");
      Path target = toStdout ? null : Path.of(file);
      Path partial = toStdout ? null : Path.of(file + ".partial");
      OutputStream stream = toStdout ? convctl.out : Files.newOutputStream(partial);
      try (DumpWriter dump = new DumpWriter(stream, source)) {
        export(client, request, dump, progress);
        dump.finish();
        if (toStdout) {
          convctl.out.flush();
        }
      } catch (RuntimeException | java.io.IOException e) {
        if (partial != null) {
          Files.deleteIfExists(partial);
        }
        throw e;
      }
      if (!toStdout) {
        Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
      progress.finish("exported " + progress.done() + " conversations" + (toStdout ? "" : " to " + file));
      return ExitCodes.OK;
    }
  }

  private void export(ConversationClient client, ExportRequest.Builder request, DumpWriter dump, Progress progress)
      throws java.io.IOException {
    String after = "";
    int failures = 0;
    while (true) {
      try {
        Iterator<ExportResponse> stream = client.adminStub().export(request.setStartAfterThreadId(after).build());
        while (stream.hasNext()) {
          ConversationRecord record = stream.next().getConversation();
          dump.write(record);
          after = record.getThreadId();
          failures = 0;
          progress.step();
        }
        return;
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || ++failures > retries) {
          throw e;
        }
        convctl.err.println("convctl export: the stream dropped after " + dump.count() + " conversations ("
            + e.getStatus().getDescription() + "); resuming");
        try {
          Thread.sleep(200L << Math.min(failures, 5)); // back off: the server may be restarting
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  private static Timestamp timestamp(String option, String text) {
    try {
      Instant t = Instant.parse(text);
      return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    } catch (DateTimeParseException e) {
      throw new CliException(ExitCodes.USAGE, option + " " + text + ": not an ISO-8601 instant such as"
          + " 2024-05-01T00:00:00Z");
    }
  }
}
