// YAML parsing with positions (one LineCounter per file turns node offsets into line:column) and with
// bounds, for every YAML file dbtls reads from the user (dbtls and Ansible inventories, answers files):
// - flow nesting ("[[[…") is measured by the yaml package's own lexer before the parser sees the text
//   (the parser runs out of stack, and past a few thousand levels takes the whole process down);
// - aliases are resolved once, in document order, into a table (the package's Alias.resolve walks the
//   whole document for every alias: quadratic), and the document's size with every alias expanded is
//   counted in the same linear pass: a billion-laughs file is refused at the alias that crosses
//   LIMITS.yamlValues, before anything expands it; an alias inside the value it names is refused too.
// Every later reader (the schema walk, Ansible's variables) follows aliases through that table only.
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  parseDocument,
  type Alias,
  type Document,
  type Node,
} from 'yaml';
import type { Pos, Problems } from './errors.js';
import { LIMITS } from './limits.js';

export interface YamlSource {
  doc: Document;
  lc: LineCounter;
  /** Each alias's node (the last anchor of its name before it); an unknown alias is absent. */
  aliases: Map<Alias, Node>;
  /** A bound the text broke: reported as a syntax error, the document is not read further. */
  limit?: { offset: number; message: string };
}

export function parseYaml(text: string): YamlSource {
  const lc = new LineCounter();
  const deep = flowTooDeep(text);
  if (deep !== undefined) {
    lc.addNewLine(0);
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lc.addNewLine(i + 1);
    return {
      doc: parseDocument('', { lineCounter: new LineCounter() }),
      lc,
      aliases: new Map(),
      limit: { offset: deep, message: `the YAML nests "[" and "{" deeper than ${LIMITS.yamlFlowDepth} levels` },
    };
  }
  // Duplicate keys are left to the checks, which name the field; YAML 1.2 core schema, so "yes" stays a string.
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  const src: YamlSource = { doc, lc, aliases: new Map() };
  if (doc.errors.length === 0) src.limit = indexAliases(src);
  return src;
}

/** The offset of the first "[" or "{" nested deeper than the limit, by the yaml package's own tokens. */
function flowTooDeep(text: string): number | undefined {
  // Fewer brackets than the limit cannot nest past it: most files are never lexed twice.
  let brackets = 0;
  for (let i = text.indexOf('['); i >= 0 && brackets <= LIMITS.yamlFlowDepth; i = text.indexOf('[', i + 1)) brackets++;
  for (let i = text.indexOf('{'); i >= 0 && brackets <= LIMITS.yamlFlowDepth; i = text.indexOf('{', i + 1)) brackets++;
  if (brackets <= LIMITS.yamlFlowDepth) return undefined;
  let depth = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      if (++depth > LIMITS.yamlFlowDepth) return offset;
    } else if ((token === ']' || token === '}') && depth > 0) depth--;
    // The lexer's control tokens (document start, flow error end, scalar) take no room in the text.
    if (token !== '\x02' && token !== '\x18' && token !== '\x1f') offset += token.length;
  }
  return undefined;
}

/** Fills src.aliases in document order; the first bound broken, if any. */
function indexAliases(src: YamlSource): YamlSource['limit'] {
  const anchors = new Map<string, Node>();
  const size = new Map<Node, number>();
  const open = new Set<Node>();
  let total = 0;
  class Stop {
    constructor(
      readonly offset: number,
      readonly message: string,
    ) {}
  }
  const at = (node: Node | null | undefined) => node?.range?.[0] ?? 0;
  const visit = (node: unknown, depth: number): number => {
    if (node == null) return 0;
    if (depth > LIMITS.yamlDepth)
      throw new Stop(at(node as Node), `the YAML nests deeper than ${LIMITS.yamlDepth} levels`);
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (!target) return 1; // reported by the reader that meets it ("unknown alias")
      if (open.has(target)) throw new Stop(at(node), `alias *${node.source} is inside the value it names (a loop)`);
      src.aliases.set(node, target);
      const n = size.get(target)!;
      total += n;
      if (total > LIMITS.yamlValues) throw new Stop(at(node), tooMany(node.source));
      return n;
    }
    const n0 = node as Node;
    if (n0.anchor) anchors.set(n0.anchor, n0);
    total += 1;
    if (total > LIMITS.yamlValues) throw new Stop(at(n0), tooMany());
    let n = 1;
    if (isMap(n0) || isSeq(n0)) {
      open.add(n0);
      for (const item of n0.items as unknown[]) {
        if (isPair(item)) n += visit(item.key, depth + 1) + visit(item.value, depth + 1);
        else n += visit(item, depth + 1);
      }
      open.delete(n0);
    }
    size.set(n0, n);
    return n;
  };
  try {
    visit(src.doc.contents, 0);
    return undefined;
  } catch (e) {
    if (e instanceof Stop) return { offset: e.offset, message: e.message };
    throw e;
  }
}

const tooMany = (alias?: string) =>
  alias === undefined
    ? `the YAML holds more than ${LIMITS.yamlValues} values`
    : `alias *${alias} makes the YAML hold more than ${LIMITS.yamlValues} values once aliases are expanded (an alias bomb?)`;

/** The node an alias stands for (through the table), or the node itself. */
export function deref(src: YamlSource, node: unknown): unknown {
  return isAlias(node) ? src.aliases.get(node) : node;
}

/** A node as plain data, aliases followed through the table (bounded: the whole expansion was counted). */
export function toJS(src: YamlSource, node: unknown): unknown {
  const n = deref(src, node);
  if (n == null) return null;
  if (isScalar(n)) return n.value;
  if (isSeq(n)) return n.items.map((i) => toJS(src, i));
  if (isMap(n)) {
    const out: Record<string, unknown> = {};
    for (const p of n.items) {
      const k = toJS(src, p.key);
      const key = typeof k === 'object' && k !== null ? JSON.stringify(k) : String(k);
      if (key === '__proto__')
        Object.defineProperty(out, key, {
          value: toJS(src, p.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else out[key] = toJS(src, p.value);
    }
    return out;
  }
  return null;
}

export function posAt(src: YamlSource, offset: number): Pos {
  const { line, col } = src.lc.linePos(offset);
  return { line, column: col };
}

export function nodePos(src: YamlSource, node: Node | null | undefined, fallback: Pos = { line: 1, column: 1 }): Pos {
  return node?.range ? posAt(src, node.range[0]) : fallback;
}

/** Reports every syntax error and a broken bound; true when there was any (the document cannot be trusted then). */
export function reportSyntax(src: YamlSource, problems: Problems): boolean {
  for (const e of src.doc.errors) problems.add(posAt(src, e.pos[0]), '', `invalid YAML: ${e.message}`);
  if (src.limit) problems.add(posAt(src, src.limit.offset), '', src.limit.message);
  return src.doc.errors.length > 0 || src.limit !== undefined;
}
