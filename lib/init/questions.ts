// The wizard's questions as data, and where each answer comes from: the answers file (checked with
// the question's own rule, errors at file:line:col and the key), else a person at the terminal (a
// Prompter the CLI provides), else the question's default, else a usage error naming the key.
// Nothing here touches the terminal.
import { dirname, isAbsolute, resolve } from 'node:path';
import { homedir } from 'node:os';
import { DbtlsError, inputError, usageError } from '../errors.js';
import type { Pos } from '../inventory/errors.js';

export type Validate<T> = (value: T) => string | undefined | Promise<string | undefined>;

/** RULE for an optional answer: the empty answer ("none") passes, any other is RULE's. */
export const emptyOr =
  (rule: (value: string) => string | undefined): Validate<string> =>
  (s) =>
    s === '' ? undefined : rule(s);

interface Base<T> {
  /** The answers-file key this question fills, like `ssh.user` or `nodes[1].host`. */
  key: string;
  message: string;
  /** Offered on a terminal (Enter takes it) and taken without one; undefined: the answer is needed. */
  default?: T;
  /**
   * The default is only offered at the prompt, never taken unasked: without a terminal the answer must
   * be given (host keys, overwriting), and with an answers file it is still asked (the questions of a
   * part the file leaves out as a whole, like typing the nodes one by one).
   */
  askWithoutDefault?: boolean;
  validate?: Validate<T>;
}

export interface TextQuestion extends Base<string> {
  kind: 'text';
  /** An empty answer is allowed (and means "none"). */
  optional?: boolean;
}
export interface IntegerQuestion extends Base<number> {
  kind: 'integer';
}
export interface Choice<T> {
  value: T;
  name: string;
  description?: string;
}
export interface SelectQuestion<T> extends Base<T> {
  kind: 'select';
  choices: Choice<T>[];
}
export interface MultiQuestion<T> extends Base<T[]> {
  kind: 'multi';
  choices: Choice<T>[];
}
export interface ConfirmQuestion extends Base<boolean> {
  kind: 'confirm';
}
/** Several lines at once (a pasted list), ended by an empty line. */
export interface LinesQuestion extends Base<string[]> {
  kind: 'lines';
}

/** What the CLI implements with prompts; each call returns only an answer its question's validate accepts. */
export interface Prompter {
  text(q: TextQuestion): Promise<string>;
  integer(q: IntegerQuestion): Promise<number>;
  select<T>(q: SelectQuestion<T>): Promise<T>;
  multi<T>(q: MultiQuestion<T>): Promise<T[]>;
  confirm(q: ConfirmQuestion): Promise<boolean>;
  lines(q: LinesQuestion): Promise<string[]>;
  /** A line of information between questions (a result, a warning). */
  note(text: string): void;
}

/** A parsed answers file: its values by key path, and where each is. */
export interface Preset {
  /** Absolute path of the answers file. */
  file: string;
  /** The name it is reported under (as given on the command line). */
  shown: string;
  values: Record<string, unknown>;
  where: Map<string, Pos>;
}

/** The value at a key path like `ssh.user` or `nodes[1].host` (undefined when absent). */
export function valueAt(root: unknown, path: string): unknown {
  let v: unknown = root;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

export class AnswerSource {
  constructor(
    readonly preset: Preset | undefined,
    /** null: no terminal; every answer comes from the file or a default. */
    readonly prompter: Prompter | null,
    /** Where relative paths typed at the terminal start from. */
    readonly cwd: string,
    /** Where notes go when there is no terminal (warnings of an unattended run). */
    private readonly notify: (text: string) => void = () => {},
  ) {}

  get interactive(): boolean {
    return this.prompter !== null;
  }

  /** Whether the answers file gives KEY. */
  has(key: string): boolean {
    return this.given(key) !== undefined;
  }

  given(key: string): unknown {
    return this.preset ? valueAt(this.preset.values, key) : undefined;
  }

  /** An input error about the answers file's KEY, at its position. */
  bad(key: string, message: string, hint?: string): DbtlsError {
    if (!this.preset) return usageError('bad-answer', `${key}: ${message}`, hint);
    const pos = this.closest(key);
    return inputError(
      'bad-answers',
      message,
      { file: this.preset.shown, ...(pos ? { line: pos.line, column: pos.column } : {}), field: key },
      hint,
    );
  }

  private closest(key: string): Pos | undefined {
    for (let k = key; k; k = k.replace(/(\.[^.[\]]+|\[\d+\])$/, '')) {
      const pos = this.preset!.where.get(k);
      if (pos) return pos;
      if (!/[.[]/.test(k)) break;
    }
    return undefined;
  }

  /** The answer is missing and nobody can be asked. */
  missing(key: string, message: string): DbtlsError {
    const where = this.preset ? ` in ${this.preset.shown}` : '';
    return usageError(
      'missing-answer',
      `no answer for ${key}${where} (${message}), and no terminal to ask on`,
      'give every answer in the --answers file (see docs/bootstrap.md), or run dbtls init in a terminal',
    );
  }

  private async answer<T>(q: Base<T>, ask: (p: Prompter) => Promise<T>, check: (v: unknown) => v is T): Promise<T> {
    const given = this.given(q.key);
    if (given !== undefined) {
      if (!check(given)) throw this.bad(q.key, 'has the wrong type');
      const why = await q.validate?.(given);
      if (why) throw this.bad(q.key, why);
      return given;
    }
    const hasDefault = q.default !== undefined && !q.askWithoutDefault;
    // An answers file is the answer sheet: what it leaves out takes its default, at a terminal too.
    if (this.prompter && !(this.preset && hasDefault)) return ask(this.prompter);
    if (hasDefault) {
      const value = q.default as T;
      const why = await q.validate?.(value);
      if (why)
        throw usageError(
          'bad-default',
          `${q.key}: the default ${JSON.stringify(value)} ${why}; give ${q.key} in the answers file`,
        );
      return value;
    }
    throw this.missing(q.key, q.message);
  }

  text(q: Omit<TextQuestion, 'kind'>): Promise<string> {
    const full: TextQuestion = { ...q, kind: 'text' };
    return this.answer(
      full,
      (p) => p.text(full),
      (v): v is string => typeof v === 'string',
    );
  }

  integer(q: Omit<IntegerQuestion, 'kind'>): Promise<number> {
    const full: IntegerQuestion = { ...q, kind: 'integer' };
    return this.answer(
      full,
      (p) => p.integer(full),
      (v): v is number => typeof v === 'number',
    );
  }

  select<T>(q: Omit<SelectQuestion<T>, 'kind'>): Promise<T> {
    const full: SelectQuestion<T> = { ...q, kind: 'select' };
    const inChoices = (v: unknown): v is T => q.choices.some((c) => c.value === v);
    const validate: Validate<T> = async (v) =>
      inChoices(v) ? q.validate?.(v) : `must be one of ${q.choices.map((c) => String(c.value)).join(', ')}`;
    return this.answer(
      { ...full, validate },
      (p) => p.select(full),
      (v): v is T => typeof v === typeof q.choices[0]?.value,
    );
  }

  multi<T>(q: Omit<MultiQuestion<T>, 'kind'>): Promise<T[]> {
    const full: MultiQuestion<T> = { ...q, kind: 'multi' };
    return this.answer(
      full,
      (p) => p.multi(full),
      (v): v is T[] => Array.isArray(v),
    );
  }

  confirm(q: Omit<ConfirmQuestion, 'kind'>): Promise<boolean> {
    const full: ConfirmQuestion = { ...q, kind: 'confirm' };
    return this.answer(
      full,
      (p) => p.confirm(full),
      (v): v is boolean => typeof v === 'boolean',
    );
  }

  lines(q: Omit<LinesQuestion, 'kind'>): Promise<string[]> {
    const full: LinesQuestion = { ...q, kind: 'lines' };
    return this.answer(
      full,
      (p) => p.lines(full),
      (v): v is string[] => Array.isArray(v),
    );
  }

  /**
   * A path answer: `~/…` is kept as written (the inventory stays portable between users); any other
   * is made absolute — relative to the answers file's folder when the file gives it, to BASE
   * (default: the working folder) when typed.
   */
  async path(q: Omit<TextQuestion, 'kind'>, base?: string): Promise<string> {
    const text = await this.text(q);
    if (text === '' || text.startsWith('~/')) return text;
    return absolutePath(text, base ?? this.baseFor(q.key));
  }

  /** Where a relative path given for KEY starts: the answers file's folder if the file gives it, else the working folder. */
  baseFor(key: string): string {
    return this.has(key) ? dirname(this.preset!.file) : this.cwd;
  }

  note(text: string): void {
    if (this.prompter) this.prompter.note(text);
    else this.notify(text);
  }
}

export function absolutePath(text: string, from: string): string {
  if (text === '~') return homedir();
  if (text.startsWith('~/')) return resolve(homedir(), text.slice(2));
  return isAbsolute(text) ? resolve(text) : resolve(from, text);
}
