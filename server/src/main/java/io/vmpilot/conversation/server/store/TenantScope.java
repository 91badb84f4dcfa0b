package io.vmpilot.conversation.server.store;

import java.util.Objects;
import java.util.Set;

/**
 * Which tenants' conversations one batch of the idle sweep looks at: a single tenant (one with its own
 * {@code [retention] tenant_max_idle}), or every tenant but some (the server-wide max_idle, which does not apply to
 * the tenants that have their own). {@link #ALL} when no tenant has its own.
 *
 * @param only the one tenant, or null for every tenant not in {@code except}
 * @param except tenants left out when {@code only} is null; empty otherwise
 */
public record TenantScope(String only, Set<String> except) {
  /** Every tenant. */
  public static final TenantScope ALL = new TenantScope(null, Set.of());

  public TenantScope {
    except = Set.copyOf(except);
    if (only != null && !except.isEmpty()) {
      throw new IllegalArgumentException("a scope of one tenant excludes no other");
    }
  }

  /** Only {@code tenant}'s conversations. */
  public static TenantScope only(String tenant) {
    return new TenantScope(Objects.requireNonNull(tenant, "tenant"), Set.of());
  }

  /** Every tenant's conversations but those of {@code tenants}. */
  public static TenantScope allExcept(Set<String> tenants) {
    return new TenantScope(null, tenants);
  }

  /** Whether a conversation of {@code tenant} is in the scope. */
  public boolean includes(String tenant) {
    return only != null ? only.equals(tenant) : !except.contains(tenant);
  }
}
