import { emailPool, idPool, isNotNull, isTrue, namePool, or, rowPredicate, valuePool, withNull } from 'pgconform';
import { tenantRows, tenants } from './shared/canonical.ts';

/** Rule 1 (seed 002): a row is valid iff is_super_admin IS TRUE OR tenant_id IS NOT NULL. */
export default rowPredicate({
  id: 'super-admin-tenant',
  title: 'regular users must have a tenant',
  source: 'seed 002',
  table: 'users',
  primaryKey: { column: 'id', pool: idPool('user', 4) },
  columns: { is_super_admin: valuePool('is_super_admin', [true, false, null]), tenant_id: withNull(tenants) },
  perRow: { email: emailPool(4, { seed: 1 }), name: namePool(4) },
  valid: or(isTrue('is_super_admin'), isNotNull('tenant_id')),
  mayRejectNull: ['is_super_admin'],
  setup: tenantRows,
  defaultSchema: ['../fixtures/super-admin-tenant/seed.sql'],
  fixtures: '../fixtures/super-admin-tenant',
});
