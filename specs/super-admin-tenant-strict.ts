import { and, emailPool, idPool, isFalse, isNotNull, isNull, isTrue, namePool, or, rowPredicate, valuePool, withNull } from 'pgconform';
import { tenantRows, tenants } from './shared/canonical.ts';

/** Rule 1, strict (seed 002): regular users have a tenant and super users NEVER have one. */
export default rowPredicate({
  id: 'super-admin-tenant-strict',
  title: 'regular users have a tenant, super admins never do',
  source: 'seed 002',
  table: 'users',
  primaryKey: { column: 'id', pool: idPool('user', 4) },
  columns: { is_super_admin: valuePool('is_super_admin', [true, false, null]), tenant_id: withNull(tenants) },
  perRow: { email: emailPool(4, { seed: 1 }), name: namePool(4) },
  valid: or(and(isTrue('is_super_admin'), isNull('tenant_id')), and(isFalse('is_super_admin'), isNotNull('tenant_id'))),
  mayRejectNull: ['is_super_admin'],
  setup: tenantRows,
  defaultSchema: ['../fixtures/super-admin-tenant/seed.sql'],
  fixtures: '../fixtures/super-admin-tenant',
});
