package io.vmpilot.conversation.server.api;

/**
 * The {@code domain} of every {@code google.rpc.ErrorInfo} this server sends, whichever layer refuses the call
 * (authentication or the service): clients match a reason together with it.
 */
public final class ErrorDomain {
  public static final String NAME = "conversation.vmpilot.io";

  private ErrorDomain() {}
}
