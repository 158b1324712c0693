import { atMostOneChild, isTrue, valuePool } from 'pgconform';
import { tenantRows, tenants, userRows, users } from './shared/canonical.ts';

/** Rule 4 (seed 001): a regular user has at most one tenant_members row; super admins are exempt. */
export default atMostOneChild({
  id: 'one-tenant-per-user',
  title: 'a regular user belongs to at most one tenant',
  source: 'seed 001',
  parent: {
    table: 'users',
    key: 'id',
    pool: users,
    exemptColumn: 'is_super_admin',
    exemptValues: valuePool('is_super_admin', [false, true]),
    exempt: isTrue('is_super_admin'),
  },
  scope: { table: 'tenants', pool: tenants },
  child: { table: 'tenant_members', parentColumn: 'user_id', scopeColumn: 'tenant_id', label: 'membership' },
  setup: `${tenantRows}\n${userRows}`,
  defaultSchema: ['../fixtures/one-tenant-per-user/seed.sql'],
  fixtures: '../fixtures/one-tenant-per-user',
});
