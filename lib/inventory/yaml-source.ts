// YAML parsing with positions: one LineCounter per file turns node offsets into line:column.
import { LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Pos, Problems } from './errors.js';

export interface YamlSource {
  doc: Document;
  lc: LineCounter;
}

export function parseYaml(text: string): YamlSource {
  const lc = new LineCounter();
  // Duplicate keys are left to the checks, which name the field; YAML 1.2 core schema, so "yes" stays a string.
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  return { doc, lc };
}

export function posAt(src: YamlSource, offset: number): Pos {
  const { line, col } = src.lc.linePos(offset);
  return { line, column: col };
}

export function nodePos(src: YamlSource, node: Node | null | undefined, fallback: Pos = { line: 1, column: 1 }): Pos {
  return node?.range ? posAt(src, node.range[0]) : fallback;
}

/** Reports every syntax error; true when there was any (the document cannot be trusted then). */
export function reportSyntax(src: YamlSource, problems: Problems): boolean {
  for (const e of src.doc.errors) problems.add(posAt(src, e.pos[0]), '', `invalid YAML: ${e.message}`);
  return src.doc.errors.length > 0;
}
