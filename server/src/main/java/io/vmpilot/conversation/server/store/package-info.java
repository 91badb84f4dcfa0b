/**
 * Where conversations live: the {@code ConversationStore} interface and the model that crosses it (immutable
 * records: {@code ThreadKey}, {@code NewMessage}, {@code StoredMessage}, {@code Conversation},
 * {@code ConversationSummary}, {@code HistorySize}, {@code MessageWindow}, {@code ListQuery}, results and stats). Commands are in
 * {@code store.command}, failures in {@code store.error}, the rules every backend applies in
 * {@code store.write}, and each backend in a package of its own.
 *
 * <p>Knows nothing of gRPC or of any transport: the service layer depends on this package, never the other way.
 * No backend package may be used from outside {@code store} except by {@code Main}, which opens one.
 */
package io.vmpilot.conversation.server.store;
