import { emailPool, idPool, isFalse, isTrue, namePool, scopedUnique, valuePool } from 'pgconform';
import { tenantRows, tenants } from './shared/canonical.ts';

/** Rule 2 (seed 002): (tenant_id, email) unique among regular users; email unique among super admins. */
export default scopedUnique({
  id: 'email-unique-per-tenant',
  title: 'email unique per tenant, super admins unique platform-wide',
  source: 'seed 002',
  table: 'users',
  primaryKey: { column: 'id', pool: idPool('user', 5) },
  // Every row keeps a tenant, so rule 1's CHECK never interferes.
  columns: { email: emailPool(2, { seed: 3 }), tenant_id: tenants, is_super_admin: valuePool('is_super_admin', [false, true]) },
  perRow: { name: namePool(5) },
  unique: [
    { name: 'regular users', key: ['tenant_id', 'email'], where: isFalse('is_super_admin') },
    { name: 'super admins', key: ['email'], where: isTrue('is_super_admin') },
  ],
  setup: tenantRows,
  defaultSchema: ['../fixtures/email-unique-per-tenant/seed.sql'],
  fixtures: '../fixtures/email-unique-per-tenant',
});
