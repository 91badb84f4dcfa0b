/**
 * Who a call acts for: bearer tokens mapped to tenants ({@code TenantTokens}, loaded from a file or the
 * environment), the interceptor that checks them and puts the caller's tenant in the gRPC context
 * ({@code AuthInterceptor}, {@code Tenants}). May use gRPC, {@code api} and the store's {@code ThreadKey}; the
 * service layer reads the tenant from here. Must not depend on {@code grpc} (the service) or on a backend.
 */
package io.vmpilot.conversation.server.auth;
