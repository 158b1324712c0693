import { idPool, insertRows, integerRange, sqlRule } from 'pgconform';
import { parentRows } from './shared/field.ts';

const teams = idPool('team', 2);
const users = idPool('user', 3);
// team#1 has one member of two seats: the last free seat is one join away, and two joins race for it.
const member = insertRows('team_members', [{ team_id: String(teams.values[0]), user_id: String(users.values[2]) }]);

/** Rule 11 (field): a team never has more members than seats. */
export default sqlRule({
  id: 'seat-limit',
  title: 'a team never has more members than seats',
  source: 'field rule 11',
  parameters: { team: teams, user: users, seats: integerRange('seats', 0, 3) },
  operations: [
    { name: 'join', sql: 'INSERT INTO team_members (team_id, user_id) VALUES (:team, :user)', describe: '{user} joins {team}', weight: 4 },
    { name: 'leave', sql: 'DELETE FROM team_members WHERE team_id = :team AND user_id = :user', describe: '{user} leaves {team}', weight: 1 },
    { name: 'seats', sql: 'UPDATE teams SET seats = :seats WHERE id = :team', describe: 'set {team} seats to {seats}', weight: 1 },
  ],
  invariant:
    'SELECT t.id AS team, t.seats, count(*)::int AS members FROM teams t JOIN team_members m ON m.team_id = t.id ' +
    'GROUP BY t.id, t.seats HAVING count(*) > t.seats',
  tables: ['teams', 'team_members'],
  // Who is a member is the row's identity (its primary key); the rule is about how many there are.
  columns: { teams: ['seats'] },
  setup: `${parentRows('teams', teams, (i) => ({ name: `Team ${i + 1}`, seats: 2 }))}\n${member}`,
  defaultSchema: ['../fixtures/seat-limit/reference.sql'],
  fixtures: '../fixtures/seat-limit',
});
