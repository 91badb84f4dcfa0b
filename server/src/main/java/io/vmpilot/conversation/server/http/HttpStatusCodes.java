package io.vmpilot.conversation.server.http;

import com.google.rpc.Code;

/**
 * The HTTP status of each gRPC status code, as {@code google/rpc/code.proto} and AIP-193 give it (the mapping
 * grpc-gateway and Envoy's transcoder use too).
 */
final class HttpStatusCodes {
  private HttpStatusCodes() {}

  static int of(Code code) {
    return switch (code) {
      case OK -> 200;
      case CANCELLED -> 499;
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
      case DEADLINE_EXCEEDED -> 504;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, ABORTED -> 409;
      case PERMISSION_DENIED -> 403;
      case UNAUTHENTICATED -> 401;
      case RESOURCE_EXHAUSTED -> 429;
      case UNIMPLEMENTED -> 501;
      case UNAVAILABLE -> 503;
      case UNKNOWN, INTERNAL, DATA_LOSS, UNRECOGNIZED -> 500;
    };
  }

  static int of(int grpcCode) {
    Code code = Code.forNumber(grpcCode);
    return of(code == null ? Code.UNKNOWN : code);
  }
}
