package io.vmpilot.conversation.cli;

import io.vmpilot.conversation.v1.ImportFailure;
import io.vmpilot.conversation.v1.ImportResponse;
import java.io.PrintStream;
import java.util.function.LongFunction;

/** Prints an Import's summary and its failures, and chooses the exit code. */
final class ImportSummary {
  private ImportSummary() {}

  /**
   * @param where names the source of a record from its index in the stream (a dump's line, a VMPilot chat)
   */
  static int report(ImportResponse r, Progress progress, PrintStream err, LongFunction<String> where) {
    for (ImportFailure f : r.getFailuresList()) {
      err.println("convctl import: " + where.apply(f.getIndex()) + " (thread " + f.getThreadId() + "): "
          + f.getReason() + ": " + f.getMessage());
    }
    if (r.getFailed() > r.getFailuresCount()) {
      err.println("convctl import: and " + (r.getFailed() - r.getFailuresCount()) + " more failures");
    }
    progress.finish("imported " + r.getImported() + ", replaced " + r.getReplaced() + ", skipped " + r.getSkipped()
        + " (already stored), failed " + r.getFailed());
    if (r.getFailed() == 0) {
      return ExitCodes.OK;
    }
    boolean conflict = r.getFailuresList().stream().anyMatch(f -> f.getReason().equals("CONVERSATION_EXISTS"));
    return conflict ? ExitCodes.CONFLICT : ExitCodes.BAD_INPUT;
  }
}
