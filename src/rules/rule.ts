import type fc from 'fast-check';

/** A value a generated operation carries: JSON-safe, so counterexamples can be saved and replayed. */
export type Value = string | number | boolean | null;

/** A row as the reference model sees it (column → value). */
export type Row = Record<string, Value>;

/** The committed contents of the tables a rule reads, table → rows. */
export type State = Record<string, Row[]>;

/** One generated operation on the schema: plain data, rendered to SQL by its rule. */
export interface Operation {
  /** The operation's name in the rule's vocabulary, e.g. "insert", "update", "demote". */
  readonly kind: string;
  readonly args: Readonly<Record<string, Value>>;
}

/** A parameterised SQL statement; values always travel as parameters. */
export interface Statement {
  readonly text: string;
  readonly values: readonly Value[];
}

/** The reference model's answer for one operation on one state. */
export interface Judgement {
  readonly allowed: boolean;
  /** Why, in the domain's words (shown in an over-restrictive report). */
  readonly reason: string;
}

/** One cell of a truth table: values of the rule's columns and what the rule demands of them. */
export interface TruthTableCell {
  readonly values: Readonly<Record<string, Value>>;
  /** accept: must be committed; reject: must never be committed; either: the rule does not say. */
  readonly expected: 'accept' | 'reject' | 'either';
}

/** A row rule's truth table: its columns and every cell of their value domains. */
export interface TruthTable {
  readonly columns: readonly string[];
  readonly cells: readonly TruthTableCell[];
  /** How a cell reads: (is_super_admin=true, tenant_id=tenant#1). */
  describe(cell: TruthTableCell): string;
  /** Scenarios that probe one cell: insert the cell; insert a valid row then update it into the cell. */
  probes(cell: TruthTableCell): { insert: Operation[]; update: Operation[] };
}

/** A table or column a rule names, and the configuration key that names it (for validation messages). */
export interface RuleReference {
  /** The key in the rule's configuration, e.g. "columns.removed_at" or "parent.table". */
  readonly key: string;
  readonly table: string;
  /** Absent when the reference is to the table alone. */
  readonly column?: string;
  /** The values the generator writes into the column, when it writes any (checked against the column's type). */
  readonly values?: readonly Value[];
}

/**
 * An executable spec of one business rule: what it means (invariant, reference model) and how to
 * exercise it (the operation generator). Built by a rule template; consumed by the engine.
 */
export interface Rule {
  /** Stable id, e.g. "one-pending-request" (RULES.md). */
  readonly id: string;
  /** One-line description. */
  readonly title: string;
  /** Where the rule comes from, e.g. "seed 003". */
  readonly source: string;
  /** Tables the rule reads and the generator writes, parents first (reset and snapshot order). */
  readonly tables: readonly string[];
  /** SQL run after every reset: the fixed rows operations refer to (tenants, users …). */
  readonly setup: string;
  /** Generates one operation of the rule's vocabulary. */
  readonly operation: fc.Arbitrary<Operation>;
  /** The SQL that performs an operation. */
  sql(op: Operation): Statement;
  /** How an operation reads in a counterexample. */
  describe(op: Operation): string;
  /** SQL returning the rows that break the rule in the committed state (none when it holds); values are parameters. */
  readonly invariant: string;
  /** The invariant's parameters ($1, $2 …): a rule's values never become SQL text. */
  readonly invariantValues?: readonly Value[];
  /**
   * The reference model: may this operation be applied to this committed state under the rule? Rules
   * without one are judged by the database itself (src/engine/database-model.ts).
   */
  allows?(state: State, op: Operation): Judgement;
  /** Why the schema may refuse this operation whatever the rule says, when the operation alone tells (a NULL the schema may declare NOT NULL). */
  refusable?(op: Operation): string | undefined;
  /**
   * Operations the rule allows in every state: true when the schema may still refuse them for reasons of its
   * own (a foreign key to a missing row), 'always' when no refusal is legitimate (deleting a post with comments).
   */
  mustAccept?(op: Operation): boolean | 'always';
  /** Names of the objects (constraints, indexes, triggers) that enforce the rule, when the enforcement map should not guess them. */
  readonly enforcedBy?: readonly string[];
  /**
   * Rules about changes: tables whose row changes the engine logs (old and new row) for the invariant to
   * read (see src/rules/transition-log.ts).
   */
  readonly transitions?: readonly string[];
  /**
   * The reference model's step: the state an operation leads to, or why the schema may reject it
   * whatever the rule says (a duplicate primary key). With it the engine finds the operations the rule
   * says conflict, and races them on purpose (see src/engine/race.ts); rules without it are only searched.
   */
  apply?(state: State, op: Operation): State | { rejected: string };
  /** Every table and column the rule names: checked against the schema before a run, and read by explain and mutate. */
  readonly references: readonly RuleReference[];
  /** Present for row rules: the cells checked one by one and printed in the report. */
  readonly truthTable?: TruthTable;
  /** Schema files the rule runs against when none is given (canonical fixtures). */
  readonly defaultSchema?: readonly string[];
  /** Folder of fixtures (reference, seed, mutants, equivalents) for the detection matrix. */
  readonly fixtures?: string;
}
