package io.vmpilot.conversation.cli;

import io.grpc.Status;

/** What convctl's exit status means (documented in {@code convctl --help} and the README). */
final class ExitCodes {
  private ExitCodes() {}

  static final int OK = 0;
  /** An unexpected failure (an INTERNAL error, a bug). */
  static final int FAILURE = 1;
  /** Bad command line (picocli's own code). */
  static final int USAGE = 2;
  /** A conversation asked for does not exist. */
  static final int NOT_FOUND = 3;
  /** Exists already or changed meanwhile: ALREADY_EXISTS, ABORTED, FAILED_PRECONDITION; an import conflict. */
  static final int CONFLICT = 4;
  /** The server cannot be reached or did not answer in time: UNAVAILABLE, DEADLINE_EXCEEDED. */
  static final int UNAVAILABLE = 5;
  /** The input is wrong: INVALID_ARGUMENT, RESOURCE_EXHAUSTED, a bad dump or VMPilot file. */
  static final int BAD_INPUT = 6;
  /** The server refused the credentials: UNAUTHENTICATED, PERMISSION_DENIED. */
  static final int UNAUTHENTICATED = 7;

  static final String HELP = """
      Exit codes: 0 ok, 1 unexpected failure, 2 bad command line, 3 not found, 4 conflict (exists, changed,
      not supported here), 5 server unavailable, 6 bad input (invalid request, bad dump or VMPilot file),
      7 not authenticated.""";

  static int of(Status.Code code) {
    return switch (code) {
      case OK -> OK;
      case NOT_FOUND -> NOT_FOUND;
      case ALREADY_EXISTS, ABORTED, FAILED_PRECONDITION -> CONFLICT;
      case UNAVAILABLE, DEADLINE_EXCEEDED -> UNAVAILABLE;
      case INVALID_ARGUMENT, RESOURCE_EXHAUSTED, OUT_OF_RANGE -> BAD_INPUT;
      case UNAUTHENTICATED, PERMISSION_DENIED -> UNAUTHENTICATED;
      default -> FAILURE;
    };
  }
}
