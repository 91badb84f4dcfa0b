package io.vmpilot.conversation.cli;

import io.vmpilot.conversation.client.ConversationClient;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "delete", mixinStandardHelpOptions = true,
    description = "Deletes conversations entirely (messages, cache info, metadata). Exit code 3 if any did not exist.")
final class DeleteCommand implements Callable<Integer> {
  @ParentCommand
  Convctl convctl;

  @Parameters(paramLabel = "THREAD", arity = "1..*", description = "Thread ids of the conversations to delete.")
  List<String> threadIds;

  @Override
  public Integer call() {
    int code = ExitCodes.OK;
    try (ConversationClient client = convctl.connect()) {
      for (String id : threadIds) {
        if (client.clear(id)) {
          convctl.out.println("deleted " + id);
        } else {
          convctl.err.println("convctl delete: no conversation " + id);
          code = ExitCodes.NOT_FOUND;
        }
      }
    }
    return code;
  }
}
