// The error codes lib/ and cli/ raise, read from their source with TypeScript's parser: what the
// catalogue test holds lib/error-codes.ts against. The compiler already refuses a code that is not in
// the catalogue; this also sees the codes JSON outputs write as plain strings ('bad-option'), the kind
// each code is raised with, and codes built at runtime (`pair-${problem.code}`).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import type { ErrorKind } from '../../lib/errors.js';

export interface CodeUse {
  /** The code; a RegExp when the source builds it from a template (each `${…}` matches [A-Za-z0-9_-]+). */
  code: string | RegExp;
  /** The kind it is raised with; undefined in a JSON error object, or when the options are not literal. */
  kind: ErrorKind | undefined;
  /** file:line, from the repository root. */
  at: string;
}

export interface SourceCodes {
  uses: CodeUse[];
  /** Code arguments that are neither a literal nor a template nor another error's code passed on (`e.code`). */
  unexplained: string[];
}

/** The .ts files under DIR, sorted. */
function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => join(dir, f));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The code an argument gives: a string, a pattern for a template, 'passed-on' for `x.code`, or undefined. */
function codeOf(arg: ts.Expression): string | RegExp | 'passed-on' | undefined {
  if (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg)) return arg.text;
  if (ts.isTemplateExpression(arg)) {
    let re = escape(arg.head.text);
    for (const span of arg.templateSpans) re += '[A-Za-z0-9_-]+' + escape(span.literal.text);
    return new RegExp(`^${re}$`);
  }
  if (ts.isPropertyAccessExpression(arg) && arg.name.text === 'code') return 'passed-on';
  return undefined;
}

/** The kind `new DbtlsError(code, message, OPTS)` raises: 'failure' without one, undefined when not a literal. */
function kindOf(opts: ts.Expression | undefined): ErrorKind | undefined {
  if (!opts) return 'failure';
  if (!ts.isObjectLiteralExpression(opts)) return undefined;
  const kind = opts.properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === 'kind');
  if (!kind) return 'failure';
  if (ts.isPropertyAssignment(kind) && ts.isStringLiteral(kind.initializer)) return kind.initializer.text as ErrorKind;
  return undefined;
}

/** Is NODE the object of an `error` (`error: {…}`, `const error = …`, `result.error = …`)? */
function isErrorObject(node: ts.Node): boolean {
  let at: ts.Node = node;
  // Through `cond ? {…} : {…}` and parentheses to what holds the value.
  while (ts.isConditionalExpression(at.parent) || ts.isParenthesizedExpression(at.parent)) at = at.parent;
  const holder = at.parent;
  const named = (n: ts.Node | undefined) =>
    n !== undefined && (ts.isIdentifier(n) || ts.isPropertyAccessExpression(n)) && /(^|\.)error$/.test(n.getText());
  if (ts.isPropertyAssignment(holder) && holder.initializer === at)
    return ts.isIdentifier(holder.name) && holder.name.text === 'error';
  if (ts.isVariableDeclaration(holder) && holder.initializer === at) return named(holder.name);
  if (ts.isBinaryExpression(holder) && holder.operatorToken.kind === ts.SyntaxKind.EqualsToken && holder.right === at)
    return named(holder.left);
  return false;
}

/** Every string literal in EXPR (`err?.code ?? 'failure'` gives 'failure'). */
function literalsIn(expr: ts.Node, out: string[] = []): string[] {
  if (ts.isStringLiteral(expr)) out.push(expr.text);
  ts.forEachChild(expr, (c) => void literalsIn(c, out));
  return out;
}

/**
 * Every place under ROOT's lib/ and cli/ that gives an error its code: usageError, inputError,
 * new DbtlsError, super(…) in a subclass of DbtlsError, and the `code` of a JSON error object.
 * lib/errors.ts (the constructors themselves) and lib/error-codes.ts (the catalogue) are left out.
 */
export function sourceCodes(root: string): SourceCodes {
  const uses: CodeUse[] = [];
  const unexplained: string[] = [];
  const files = [...sources(join(root, 'lib')), ...sources(join(root, 'cli'))];
  for (const path of files) {
    const file = relative(root, path);
    if (file === join('lib', 'errors.ts') || file === join('lib', 'error-codes.ts')) continue;
    const src = ts.createSourceFile(file, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
    const at = (n: ts.Node) => `${file}:${src.getLineAndCharacterOfPosition(n.getStart(src)).line + 1}`;
    const raise = (n: ts.CallExpression | ts.NewExpression, kind: ErrorKind | undefined) => {
      const arg = n.arguments?.[0];
      const code = arg && codeOf(arg);
      if (code === 'passed-on') return;
      if (code === undefined) unexplained.push(`${at(n)}: ${arg?.getText(src) ?? '(no code)'}`);
      else uses.push({ code, kind, at: at(n) });
    };
    const inDbtlsErrorSubclass = (n: ts.Node) => {
      for (let p: ts.Node | undefined = n.parent; p; p = p.parent) {
        if (ts.isClassDeclaration(p))
          return (p.heritageClauses ?? []).some((h) => h.types.some((t) => t.expression.getText(src) === 'DbtlsError'));
      }
      return false;
    };
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n)) {
        const callee = n.expression.getText(src);
        if (callee === 'usageError') raise(n, 'usage');
        else if (callee === 'inputError') raise(n, 'input');
        else if (n.expression.kind === ts.SyntaxKind.SuperKeyword && inDbtlsErrorSubclass(n))
          raise(n, kindOf(n.arguments[2]));
      } else if (ts.isNewExpression(n) && n.expression.getText(src) === 'DbtlsError') {
        raise(n, kindOf(n.arguments?.[2]));
      } else if (ts.isObjectLiteralExpression(n) && isErrorObject(n)) {
        for (const p of n.properties) {
          if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'code') {
            for (const code of literalsIn(p.initializer)) uses.push({ code, kind: undefined, at: at(p) });
          }
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(src);
  }
  return { uses, unexplained };
}
