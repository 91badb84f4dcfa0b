package io.vmpilot.conversation.cli;

import com.google.protobuf.util.JsonFormat;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.GetServerStatusRequest;
import io.vmpilot.conversation.v1.GetServerStatusResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Shows the server's version, backend, schema version, database size, this tenant's conversation"
        + " and message counts, durability and uptime.")
final class StatusCommand implements Callable<Integer> {
  @ParentCommand
  Convctl convctl;

  @Option(names = {"-o", "--output"}, defaultValue = "text", description = "text (default) or json.")
  Output output;

  enum Output { text, json }

  @Override
  public Integer call() throws Exception {
    try (ConversationClient client = convctl.connect()) {
      GetServerStatusResponse s = client.adminStub()
          .withDeadlineAfter(convctl.connection.deadlineSeconds, TimeUnit.SECONDS)
          .getServerStatus(GetServerStatusRequest.getDefaultInstance());
      if (output == Output.json) {
        convctl.out.println(JsonFormat.printer().print(s));
        return ExitCodes.OK;
      }
      var out = convctl.out;
      out.println("address:        " + convctl.connection.target());
      out.println("server version: " + s.getServerVersion());
      out.println("backend:        " + s.getBackend());
      out.println("database:       " + (s.getDatabaseLocation().isEmpty() ? "-" : s.getDatabaseLocation()));
      out.println("schema version: " + (s.getSchemaVersion().isEmpty() ? "-" : s.getSchemaVersion()));
      out.println("database size:  " + s.getDatabaseBytes() + " bytes");
      out.println("conversations:  " + s.getConversationCount());
      out.println("messages:       " + s.getMessageCount());
      out.println("durability:     " + s.getDurability());
      out.println("uptime:         " + Duration.ofSeconds(s.getUptime().getSeconds()));
      out.flush();
      return ExitCodes.OK;
    }
  }
}
