package io.vmpilot.conversation.cli;

import com.google.protobuf.util.JsonFormat;
import io.vmpilot.conversation.client.ConversationClient;
import io.vmpilot.conversation.v1.Conversation;
import io.vmpilot.conversation.v1.Message;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "show", mixinStandardHelpOptions = true,
    description = "Shows one conversation: its messages by role (tool calls with their arguments pretty-printed),"
        + " cache info and metadata.")
final class ShowCommand implements Callable<Integer> {
  @ParentCommand
  Convctl convctl;

  @Parameters(paramLabel = "THREAD", description = "The conversation's thread id.")
  String threadId;

  @Option(names = {"-o", "--output"}, defaultValue = "text",
      description = "text (default) or json (the Conversation in proto JSON: each message's exact stored text).")
  Output output;

  enum Output { text, json }

  @Override
  public Integer call() throws Exception {
    try (ConversationClient client = convctl.connect()) {
      Conversation c = client.get(threadId).orElseThrow(
          () -> new CliException(ExitCodes.NOT_FOUND, "no conversation " + threadId));
      if (output == Output.json) {
        convctl.out.println(JsonFormat.printer().sortingMapKeys().print(c));
        return ExitCodes.OK;
      }
      var out = convctl.out;
      out.println("thread:    " + c.getThreadId());
      out.println("version:   " + c.getVersion() + "    messages: " + c.getMessageCount() + "    bytes: "
          + c.getHistoryBytes());
      out.println("created:   " + Render.time(c.getCreateTime()) + "    updated: " + Render.time(c.getUpdateTime()));
      out.println("cache:     " + Render.counters(c.getCacheInfoMap()));
      out.println("metadata:  " + Render.metadata(c.getMetadataMap(), 0));
      for (Message m : c.getMessagesList()) {
        out.println();
        out.print(Render.message(m));
      }
      out.flush();
      return ExitCodes.OK;
    }
  }
}
