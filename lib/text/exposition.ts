// The Prometheus text exposition format (version 0.0.4), as `check --prometheus` and `dbtls exporter`
// write it: families of samples, each with its HELP and TYPE, label values escaped. One builder so
// the textfile and the HTTP endpoints cannot drift apart in escaping or layout.

export type Labels = Record<string, string | undefined>;

/** The Content-Type of the format, for an HTTP response. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A label value as the exposition format wants it: backslash, double quote and line feed escaped. */
export function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function sample(name: string, labels: Labels, value: number): string {
  const parts = Object.entries(labels)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}="${labelValue(v)}"`);
  const text = Number.isFinite(value) ? String(value) : Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
  return parts.length ? `${name}{${parts.join(',')}} ${text}` : `${name} ${text}`;
}

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: string[];
}

/** Families in the order they are declared; a family with no sample is left out of the text. */
export class Exposition {
  private readonly families: Family[] = [];

  /** Declares a family; the function it returns adds one sample. HELP is one line of plain text. */
  family(name: string, help: string, type: Family['type'] = 'gauge'): (labels: Labels, value: number) => void {
    const f: Family = { name, help: help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n'), type, samples: [] };
    this.families.push(f);
    return (labels, value) => f.samples.push(sample(name, labels, value));
  }

  text(): string {
    const used = this.families.filter((f) => f.samples.length);
    return used
      .map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.samples].join('\n') + '\n')
      .join('');
  }
}
