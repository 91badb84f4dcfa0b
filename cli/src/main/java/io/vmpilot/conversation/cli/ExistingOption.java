package io.vmpilot.conversation.cli;

import io.vmpilot.conversation.v1.ExistingConversationPolicy;

/** The --on-existing choices. */
enum ExistingOption {
  fail(ExistingConversationPolicy.EXISTING_CONVERSATION_POLICY_FAIL),
  skip(ExistingConversationPolicy.EXISTING_CONVERSATION_POLICY_SKIP),
  replace(ExistingConversationPolicy.EXISTING_CONVERSATION_POLICY_REPLACE);

  static final String HELP = "What to do with a conversation that exists and differs: fail (default: report it,"
      + " exit code 4), skip (keep the stored one) or replace. One stored identically is always skipped.";

  final ExistingConversationPolicy policy;

  ExistingOption(ExistingConversationPolicy policy) {
    this.policy = policy;
  }
}
