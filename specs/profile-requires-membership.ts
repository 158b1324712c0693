import { childRequiresParent, idPool, insertRows, namePool } from 'pgconform';
import { tenantRows, tenants, userRows } from './shared/canonical.ts';

// Two regular users, each a member of one tenant from the start: seed 001 keeps a user in one tenant
// (rule 4's unique index on tenant_members(user_id)), and this rule shares its tables. Operations
// still add a second membership where a schema allows it (a user in two tenants, a profile moving).
const users = idPool('user', 2);

/** Rule 5 (seed 001): every profile has its membership, one profile per user, and goes with it. */
export default childRequiresParent({
  id: 'profile-requires-membership',
  title: 'no orphan profiles, one profile per user',
  source: 'seed 001',
  // A second membership refused by rule 4's index is not this rule's concern (uniqueBy); one accepted is still judged.
  parent: { table: 'tenant_members', columns: { user_id: users, tenant_id: tenants }, label: 'membership', uniqueBy: ['user_id'] },
  child: {
    table: 'user_profiles',
    primaryKey: { column: 'id', pool: idPool('profile', 4) },
    ref: ['user_id', 'tenant_id'],
    uniqueBy: ['user_id'],
    movable: ['tenant_id'],
    perRow: { display_name: namePool(4, 5) },
  },
  // Start with memberships in place, so profiles can race their deletion from the first step.
  setup: `${tenantRows}\n${userRows}\n${insertRows('tenant_members', [
    { user_id: users.values[0]!, tenant_id: tenants.values[0]! },
    { user_id: users.values[1]!, tenant_id: tenants.values[1]! },
  ])}`,
  defaultSchema: ['../fixtures/profile-requires-membership/seed.sql'],
  fixtures: '../fixtures/profile-requires-membership',
});
