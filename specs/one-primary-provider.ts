import { and, eq, idPool, isNull, scopedUnique, valuePool } from 'pgconform';

/** Rule 7 (seed 004): one active PRIMARY per (organization, patient); removed rows are history. */
export default scopedUnique({
  id: 'one-primary-provider',
  title: 'one primary provider per organization and patient',
  source: 'seed 004',
  table: 'care_team_assignments',
  primaryKey: { column: 'id', pool: idPool('assignment', 4) },
  columns: {
    organization_id: idPool('org', 2),
    patient_id: idPool('patient', 2),
    provider_id: idPool('provider', 2),
    role: valuePool('role', ['PRIMARY', 'SPECIALIST', 'CONSULTANT']),
    removed_at: valuePool('removed_at', [null, '2025-01-01T00:00:00Z']),
  },
  // Role changes, soft delete (removed_at set) and undelete (removed_at NULL).
  mutable: ['role', 'removed_at'],
  unique: [{ name: 'active primaries', key: ['organization_id', 'patient_id'], where: and(eq('role', 'PRIMARY'), isNull('removed_at')) }],
  defaultSchema: ['../fixtures/one-primary-provider/seed.sql'],
  fixtures: '../fixtures/one-primary-provider',
});
