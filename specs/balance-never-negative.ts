import { idPool, sqlRule, valuePool } from 'pgconform';
import { insertRows } from 'pgconform';
import { lastOf, parentRows } from './shared/field.ts';

const accounts = idPool('account', 2);
const entries = idPool('entry', 6);
// Each account opens with a credit of 20, an entry operations can delete.
const opening = insertRows('entries', lastOf(entries, 2).map((id, i) => ({ id, account_id: String(accounts.values[i]), amount: 20 })));

/** Rule 9 (field): the entries of an account never sum below zero; a debit that leaves exactly zero is allowed. */
export default sqlRule({
  id: 'balance-never-negative',
  title: "an account's entries never sum below zero",
  source: 'field rule 9',
  parameters: {
    account: accounts,
    entry: entries,
    credit: valuePool('credit', [10, 20]),
    debit: valuePool('debit', [-10, -20]),
  },
  operations: [
    { name: 'credit', sql: 'INSERT INTO entries (id, account_id, amount) VALUES (:entry, :account, :credit)', describe: 'credit {account} with {credit} as {entry}', weight: 2 },
    { name: 'debit', sql: 'INSERT INTO entries (id, account_id, amount) VALUES (:entry, :account, :debit)', describe: 'debit {account} by {debit} as {entry}', weight: 3 },
    { name: 'delete', sql: 'DELETE FROM entries WHERE id = :entry', describe: 'delete entry {entry}', weight: 1 },
  ],
  invariant: 'SELECT account_id AS account, sum(amount) AS balance FROM entries GROUP BY account_id HAVING sum(amount) < 0',
  tables: ['accounts', 'entries'],
  columns: { entries: ['account_id', 'amount'] },
  // One debit of 20 leaves exactly zero; two concurrent ones race for it, as do a debit and deleting the opening credit.
  setup: `${parentRows('accounts', accounts, (i) => ({ owner: `owner ${i + 1}` }))}\n${opening}`,
  defaultSchema: ['../fixtures/balance-never-negative/reference.sql'],
  fixtures: '../fixtures/balance-never-negative',
});
