import { idPool, isTrue, scopedUnique, valuePool } from 'pgconform';
import { tenants, users } from './shared/canonical.ts';

/** Rule 3 (seed 000): at most one active membership per (user, tenant); inactive rows are history. */
export default scopedUnique({
  id: 'one-active-membership',
  title: 'one active membership per user and tenant',
  source: 'seed 000',
  table: 'user_tenant_membership',
  primaryKey: { column: 'id', pool: idPool('membership', 5, 'bigint'), overridingSystemValue: true },
  columns: { user_id: users, tenant_id: tenants, is_active: valuePool('is_active', [true, false]) },
  mutable: ['is_active'],
  unique: [{ name: 'active memberships', key: ['user_id', 'tenant_id'], where: isTrue('is_active') }],
  defaultSchema: ['../fixtures/one-active-membership/seed.sql'],
  fixtures: '../fixtures/one-active-membership',
});
