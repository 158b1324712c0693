import { eq, idPool, scopedUnique, valuePool } from 'pgconform';

/** Rule 6 (seed 003): at most one PENDING access request per organization and user. */
export default scopedUnique({
  id: 'one-pending-request',
  title: 'one pending access request per organization and user',
  source: 'seed 003',
  table: 'access_requests',
  primaryKey: { column: 'id', pool: idPool('request', 4) },
  columns: {
    organization_id: idPool('org', 2),
    user_id: idPool('user', 2),
    status: valuePool('status', ['PENDING', 'APPROVED', 'DENIED']),
  },
  mutable: ['status'],
  unique: [{ name: 'pending requests', key: ['organization_id', 'user_id'], where: eq('status', 'PENDING') }],
  defaultSchema: ['../fixtures/one-pending-request/seed.sql'],
  fixtures: '../fixtures/one-pending-request',
});
