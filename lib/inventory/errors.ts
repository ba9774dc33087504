// Inventory problems are collected, not thrown one by one: a user fixing a file wants every
// problem at once, each with the exact place (file:line:col) and the field path.
import { DbtlsError } from '../errors.js';

export interface Problem {
  file: string;
  /** 1-based; 0 when unknown. */
  line: number;
  /** 1-based; 0 when unknown. */
  column: number;
  /** Path of the offending field, like `nodes[2].sans[0]`; '' for a whole-file problem (syntax). */
  field: string;
  message: string;
}

export interface Pos {
  line: number;
  column: number;
}

/** "file:line:col: field: message", leaving out the parts that are unknown. */
export function formatProblem(p: Problem): string {
  let where = p.file;
  if (p.line) where += `:${p.line}` + (p.column ? `:${p.column}` : '');
  return `${where}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

export class InventoryError extends DbtlsError {
  readonly problems: Problem[];

  constructor(problems: Problem[]) {
    const first = problems[0];
    super('bad-inventory', problems.map(formatProblem).join('\n'), {
      kind: 'input',
      hint: 'fix the inventory (its fields are described in docs/inventory.md)',
      location: first ? { file: first.file, line: first.line, column: first.column, field: first.field } : {},
    });
    this.name = 'InventoryError';
    this.problems = problems;
  }

  /** Every problem, one per line (the message already carries the locations). */
  override describe(): string {
    return this.message;
  }
}

/** Collects the problems of one file, in the order they are found; sorted by position on the way out. */
export class Problems {
  readonly list: Problem[] = [];
  constructor(readonly file: string) {}

  add(pos: Pos | undefined, field: string, message: string): void {
    const p = { file: this.file, line: pos?.line ?? 0, column: pos?.column ?? 0, field, message };
    // The same group variable can be wrong for many hosts: say it once.
    if (!this.list.some((q) => q.line === p.line && q.column === p.column && q.field === p.field && q.message === p.message)) {
      this.list.push(p);
    }
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  /** An InventoryError holding every problem sorted by line and column (sort is stable for ties). */
  error(): InventoryError {
    return new InventoryError([...this.list].sort((a, b) => a.line - b.line || a.column - b.column));
  }
}
