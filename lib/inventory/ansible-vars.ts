// A host's effective Ansible variables read with their types and dbtls's rules; whatever is wrong is
// reported at the place the variable is set, under the field that names it.
import type { Problems } from './errors.js';
import type { AnsibleVar } from './ansible.js';
import * as rules from './rules.js';
import { quoteValue } from '../errors.js';

/** A variable and the field that names where it is set (`db1.ansible_port`, `mysql.vars.ansible_port`). */
export type Located = AnsibleVar & { field: string };

/** What VarReader reads: a Map, or host variables laid over a host's shared group variables. */
export interface VarLookup {
  get(name: string): Located | undefined;
  has(name: string): boolean;
}

/** TOP over BELOW without copying BELOW (hosts of the same groups share one merged map of group variables). */
export function layered(top: Map<string, Located>, below: VarLookup): VarLookup {
  return { get: (n) => top.get(n) ?? below.get(n), has: (n) => top.has(n) || below.has(n) };
}

export class VarReader {
  constructor(
    private readonly vars: VarLookup,
    private readonly problems: Problems,
  ) {}

  string(name: string, rule: rules.Rule<string>): string | undefined {
    const v = this.vars.get(name);
    if (!v) return undefined;
    if (typeof v.value !== 'string' && typeof v.value !== 'number')
      return this.fail(v, `expected a string, got ${describe(v.value)}`);
    const s = String(v.value);
    const bad = rule(s);
    return bad ? this.fail(v, bad) : s;
  }

  port(name: string): number | undefined {
    const v = this.vars.get(name);
    if (!v) return undefined;
    const n =
      typeof v.value === 'number'
        ? v.value
        : typeof v.value === 'string' && /^\d+$/.test(v.value)
          ? Number(v.value)
          : NaN;
    if (Number.isNaN(n)) return this.fail(v, `expected a port number, got ${describe(v.value)}`);
    const bad = rules.port(n);
    return bad ? this.fail(v, bad) : n;
  }

  /** ansible_connection: local runs on this machine, the SSH flavours are ssh, others need dbtls_transport. */
  connection(): string | undefined {
    const v = this.vars.get('ansible_connection');
    if (!v) return undefined;
    const c = String(v.value).replace(/^ansible\.builtin\./, '');
    if (c === 'local') return 'local';
    if (['ssh', 'smart', 'paramiko', 'paramiko_ssh'].includes(c)) return 'ssh';
    return this.fail(
      v,
      `connection ${describe(v.value)} is not one dbtls can use; set dbtls_transport to ssh or local`,
    );
  }

  /** A YAML list or a comma-separated string; the items that break the rule are reported. */
  list(v: Located, rule: rules.Rule<string>): string[] {
    const items = Array.isArray(v.value)
      ? v.value
      : typeof v.value === 'string'
        ? v.value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : undefined;
    if (!items) return this.fail(v, `expected a list or a comma-separated string, got ${describe(v.value)}`) ?? [];
    const good: string[] = [];
    for (const item of items) {
      const bad = typeof item === 'string' ? rule(item) : `expected a string, got ${describe(item)}`;
      if (bad) this.fail(v, bad);
      else good.push(item as string);
    }
    return good;
  }

  /** The first of these names that is set (or the first name, which then reads as unset). */
  first(...names: string[]): string {
    return names.find((n) => this.vars.has(n)) ?? names[0]!;
  }

  private fail(v: Located, message: string): undefined {
    this.problems.add(v.pos, v.field, message);
    return undefined;
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v === 'string' ? quoteValue(v) : JSON.stringify(v);
}
