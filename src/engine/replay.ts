import type { StartedServer } from '../db/provider.ts';
import { Sandbox } from '../db/sandbox.ts';
import { readSchemaFiles } from '../db/schema-source.ts';
import type { Rule } from '../rules/rule.ts';
import { modelDatabaseFor, ScenarioExecutor, type Execution } from './executor.ts';
import type { Scenario } from './scenario.ts';

/** Executes a concrete scenario (no generator involved) on a fresh sandbox of the given schema. */
export async function replayScenario(server: StartedServer, rule: Rule, schema: readonly string[], scenario: Scenario): Promise<Execution> {
  const sandbox = await Sandbox.create(server, await readSchemaFiles(schema));
  try {
    const database = await sandbox.createWorkerDatabase();
    const modelDatabase = await modelDatabaseFor(rule, () => sandbox.createWorkerDatabase());
    const executor = await ScenarioExecutor.open(rule, database, { maxSessions: Math.max(1, scenario.sessions.length), modelDatabase });
    try {
      return await executor.execute(scenario);
    } finally {
      await executor.close();
    }
  } finally {
    await sandbox.dispose();
  }
}
