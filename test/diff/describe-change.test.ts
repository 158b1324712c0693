// Describing a newly accepted operation from the reference model alone: decisive columns, key
// columns and the words both rows share, on hand-made states (no server needed).
import { describe, expect, it } from 'vitest';
import { describeAllowedRow, generatorDomains } from '../../src/diff/describe-change.ts';
import { idPool } from '../../src/rules/pool.ts';
import onePendingRequest from '../../specs/one-pending-request.ts';
import onePrimaryProvider from '../../specs/one-primary-provider.ts';

const [org1, org2] = idPool('org', 2).values;
const [patient1] = idPool('patient', 2).values;
const [provider1, provider2] = idPool('provider', 2).values;
const [a1, a2] = idPool('assignment', 4).values;
const [r1, r2] = idPool('request', 4).values;
const [user1] = idPool('user', 2).values;

describe('describeAllowedRow', () => {
  it('names what lets a second primary in: another organization, whatever the provider', () => {
    const state = { care_team_assignments: [{ id: a1!, organization_id: org1!, patient_id: patient1!, provider_id: provider1!, role: 'PRIMARY', removed_at: null }] };
    const op = { kind: 'insert', args: { id: a2!, organization_id: org2!, patient_id: patient1!, provider_id: provider2!, role: 'PRIMARY', removed_at: null } };
    expect(describeAllowedRow(onePrimaryProvider, state, op, generatorDomains(onePrimaryProvider))).toBe('a primary in a second organization');
  });

  it('contrasts the words of two rows when no single column explains the difference', () => {
    const state = { access_requests: [{ id: r1!, organization_id: org1!, user_id: user1!, status: 'APPROVED' }] };
    const op = { kind: 'insert', args: { id: r2!, organization_id: org1!, user_id: user1!, status: 'PENDING' } };
    expect(describeAllowedRow(onePendingRequest, state, op, generatorDomains(onePendingRequest))).toBe('a pending access request beside an approved one');
  });

  it('says nothing about an operation that is not a row', () => {
    const state = { access_requests: [{ id: r1!, organization_id: org1!, user_id: user1!, status: 'APPROVED' }] };
    const op = { kind: 'update', args: { $key: r1!, $column: 'status', $value: 'PENDING' } };
    expect(describeAllowedRow(onePendingRequest, state, op, generatorDomains(onePendingRequest))).toBeUndefined();
  });
});
