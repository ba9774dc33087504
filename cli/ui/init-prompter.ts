// The wizard's questions at a terminal: @inquirer/prompts for single answers, a plain readline loop for a
// pasted list (inquirer's prompts drop the lines that arrive after the first one's Enter). Ctrl-C at any
// prompt becomes an Interrupted error, which `dbtls init` turns into exit 130 with nothing written.
import { createInterface } from 'node:readline';
import type {
  ConfirmQuestion,
  IntegerQuestion,
  LinesQuestion,
  MultiQuestion,
  Prompter,
  SelectQuestion,
  TextQuestion,
} from '../../lib/init/questions.js';

/** Ctrl-C (or a closed terminal) at a prompt. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

const ok = async <T>(
  v: T,
  validate?: (v: T) => string | undefined | Promise<string | undefined>,
): Promise<true | string> => (await validate?.(v)) ?? true;

async function asked<T>(prompt: Promise<T>): Promise<T> {
  try {
    return await prompt;
  } catch (e) {
    const name = (e as Error)?.name;
    if (name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError')
      throw new Interrupted();
    throw e;
  }
}

export async function inquirerPrompter(): Promise<Prompter> {
  const { input, select, checkbox, confirm } = await import('@inquirer/prompts');
  return {
    async text(q: TextQuestion) {
      const answer = await asked(
        input({
          message: q.message,
          ...(q.default ? { default: q.default } : {}),
          validate: (s) => {
            const v = s.trim();
            if (v === '' && !q.optional) return 'an answer is needed';
            return ok(v, q.validate);
          },
        }),
      );
      return answer.trim();
    },
    async integer(q: IntegerQuestion) {
      const answer = await asked(
        input({
          message: q.message,
          ...(q.default !== undefined ? { default: String(q.default) } : {}),
          validate: (s) => (/^\d{1,9}$/.test(s.trim()) ? ok(Number(s.trim()), q.validate) : 'a whole number, please'),
        }),
      );
      return Number(answer.trim());
    },
    select<T>(q: SelectQuestion<T>) {
      return asked(
        select<T>({
          message: q.message,
          choices: q.choices.map((c) => ({
            value: c.value,
            name: c.name,
            ...(c.description ? { description: c.description } : {}),
          })),
          ...(q.default !== undefined ? { default: q.default } : {}),
        }),
      );
    },
    multi<T>(q: MultiQuestion<T>) {
      return asked(
        checkbox<T>({
          message: q.message,
          choices: q.choices.map((c) => ({
            value: c.value,
            name: c.name,
            checked: (q.default ?? []).includes(c.value),
          })),
          validate: (chosen) =>
            ok(
              chosen.map((c) => c.value),
              q.validate,
            ),
        }),
      );
    },
    confirm(q: ConfirmQuestion) {
      return asked(confirm({ message: q.message, ...(q.default !== undefined ? { default: q.default } : {}) }));
    },
    async lines(q: LinesQuestion) {
      for (;;) {
        const lines = await readLines(q.message);
        const why = await q.validate?.(lines);
        if (!why) return lines;
        process.stdout.write(`  ✖ ${why}\n`);
      }
    },
    note(text: string) {
      process.stdout.write(`  ${text.split('\n').join('\n  ')}\n`);
    },
  };
}

/** Lines typed or pasted until an empty line (or Ctrl-D after at least one). */
function readLines(message: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    process.stdout.write(`? ${message}\n`);
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true, prompt: '  > ' });
    const lines: string[] = [];
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      rl.close();
      fn();
    };
    rl.on('line', (line) => {
      if (line.trim() !== '') lines.push(line);
      else if (lines.length) return finish(() => resolve(lines));
      rl.prompt();
    });
    rl.on('SIGINT', () =>
      finish(() => {
        process.stdout.write('\n'); // off the "  > " line
        reject(new Interrupted());
      }),
    );
    rl.on('close', () => finish(() => (lines.length ? resolve(lines) : reject(new Interrupted()))));
    rl.prompt();
  });
}
