// Pools and setup rows for the canonical tables of RULES.md, shared by the built-in specs.
import { emailPool, idPool, insertRows, namePool } from 'pgconform';

export const tenants = idPool('tenant', 2);
export const users = idPool('user', 3);
export const tenantNames = namePool(2, 11);

/** The tenants every users-table rule refers to. */
export const tenantRows = insertRows(
  'tenants',
  tenants.values.map((id, i) => ({ id, name: `${tenantNames.values[i]} Clinic` })),
);

/** Users for the membership rules: two regular users and one super admin. */
export const userRows = insertRows(
  'users',
  users.values.map((id, i) => ({ id, email: String(emailPool(3, { seed: 99 }).values[i]), is_super_admin: i === 2 })),
);
