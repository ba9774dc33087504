// Drives the real `promtool test rules` on examples/prometheus/dbtls-alerts.yml with series taken
// from real dbtls output: the text exposition is parsed, its Unix-time gauges shifted so that
// promtool's clock zero is the moment check ran, and each expected alert's annotations rendered
// the way Prometheus renders them ({{ $labels.NAME }}, {{ $value | humanizeDuration }}), since
// promtool compares annotations too.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { run, type RunResult } from './run.js';
import { repoRoot } from './paths.js';
import { which, SBIN_DIRS } from './which.js';

export type Labels = Record<string, string>;
export interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

export const ALERTS_FILE = join(repoRoot, 'examples/prometheus/dbtls-alerts.yml');
export const SCRAPE_CONFIG = join(repoRoot, 'examples/prometheus/prometheus.yml');

export async function promtool(): Promise<string> {
  const path = await which('promtool', SBIN_DIRS);
  if (!path) throw new Error('promtool not found: run scripts/install-system-deps.sh (Debian package prometheus)');
  return path;
}

/** The samples of a text exposition: `name{k="v",…} value` lines, label values unescaped. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition sample: ${line}`);
    const labels: Labels = {};
    const body = m[2] ?? '';
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/y;
    let at = 1;
    for (;;) {
      re.lastIndex = at;
      const l = re.exec(body);
      if (!l) break;
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      at = re.lastIndex;
    }
    if (body && at !== body.length - 1) throw new Error(`bad labels: ${line}`);
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The gauges whose value is a point in time (Unix seconds): shifted to promtool's clock. */
export const TIMESTAMP_METRICS = new Set([
  'dbtls_certificate_not_after_seconds',
  'dbtls_crl_next_update_seconds',
  'dbtls_live_not_after_seconds',
  'dbtls_check_timestamp_seconds',
  'dbtls_probe_certificate_not_after_seconds',
]);

const quoted = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

export function selector(name: string, labels: Labels): string {
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${quoted(v)}`)
    .join(',')}}`;
}

export interface InputSeries {
  series: string;
  values: string;
}

/**
 * The samples as promtool input series: constant from 0 for `points` intervals, timestamps made
 * relative to ORIGIN (a value V becomes V - ORIGIN), with EXTRA labels (what the scrape adds: job, instance).
 */
export function inputSeries(samples: Sample[], origin: number, extra: Labels, points: number): InputSeries[] {
  return samples.map((s) => ({
    series: selector(s.name, { ...s.labels, ...extra }),
    values: `${TIMESTAMP_METRICS.has(s.name) ? s.value - origin : s.value}+0x${points}`,
  }));
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Labels;
  annotations: Labels;
}

export async function alertRules(file = ALERTS_FILE): Promise<AlertRule[]> {
  const doc = parse(await readFile(file, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  return doc.groups.flatMap((g) => g.rules).filter((r) => r.alert);
}

/** Go's humanizeDuration of Prometheus's templates (template/template.go), for |v| >= 1 and 0. */
export function humanizeDuration(value: number): string {
  if (value === 0) return '0s';
  if (Math.abs(value) < 1) throw new Error(`sub-second durations are not rendered here: ${value}`);
  const sign = value < 0 ? '-' : '';
  const v = Math.abs(value);
  const d = Math.trunc(v);
  const [days, hours, minutes, seconds] = [
    Math.trunc(d / 86400),
    Math.trunc(d / 3600) % 24,
    Math.trunc(d / 60) % 60,
    d % 60,
  ];
  if (days) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
  if (hours) return `${sign}${hours}h ${minutes}m ${seconds}s`;
  if (minutes) return `${sign}${minutes}m ${seconds}s`;
  return `${sign}${Number(v.toPrecision(4))}s`;
}

/** TEMPLATE as Prometheus renders it for an alert with LABELS and VALUE; throws on any other template. */
export function render(template: string, labels: Labels, value: number): string {
  const out = template
    .replace(/\{\{\s*\$value\s*\|\s*humanizeDuration\s*\}\}/g, () => humanizeDuration(value))
    .replace(/\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, k: string) => {
      if (labels[k] === undefined) throw new Error(`{{ $labels.${k} }}: the alert has no label ${k}`);
      return labels[k];
    });
  if (out.includes('{{')) throw new Error(`a template this test does not render: ${template}`);
  return out;
}

/** An alert expected to fire: the labels of the expression's result and its value at the evaluation. */
export interface Firing {
  labels: Labels;
  value: number;
}

export interface RuleTest {
  /** Seconds of promtool time. */
  evalTime: number;
  /** Alert name → the alerts that must fire; every alert of the rule file not named must not fire. */
  firing: Record<string, Firing[]>;
}

export interface PromtoolCase {
  /** Seconds between input samples. */
  interval: number;
  /**
   * How often promtool evaluates the rules, up to the last eval time (default 1m). Cases that look
   * days ahead use 5m: promtool evaluates every step from 0, and the rules' `for:` are 15m or more there.
   */
  evaluationInterval?: '1m' | '5m';
  series: InputSeries[];
  tests: RuleTest[];
}

/** A promtool test file for the rules: every alert of the rule file checked at every evaluation time. */
export async function ruleTestFile(cases: PromtoolCase[], rules?: AlertRule[]): Promise<string> {
  const all = rules ?? (await alertRules());
  if (new Set(cases.map((c) => c.evaluationInterval ?? '1m')).size > 1)
    throw new Error('one evaluation interval per promtool test file');
  for (const c of cases)
    for (const t of c.tests)
      for (const name of Object.keys(t.firing))
        if (!all.some((r) => r.alert === name)) throw new Error(`no alert ${name} in the rule file`);
  return stringify(
    {
      rule_files: [ALERTS_FILE],
      evaluation_interval: cases[0]?.evaluationInterval ?? '1m',
      tests: cases.map((c) => ({
        interval: `${c.interval}s`,
        input_series: c.series,
        alert_rule_test: c.tests.flatMap((t) =>
          all.map((r) => ({
            eval_time: `${t.evalTime}s`,
            alertname: r.alert,
            exp_alerts: (t.firing[r.alert] ?? []).map((f) => {
              const labels = { ...f.labels, ...r.labels };
              const annotations = Object.fromEntries(
                Object.entries(r.annotations).map(([k, v]) => [k, render(v, labels, f.value)]),
              );
              return { exp_labels: labels, exp_annotations: annotations };
            }),
          })),
        ),
      })),
    },
    { lineWidth: 0 },
  );
}

/** Writes the test file into DIR and runs `promtool test rules` on it. */
export async function promtoolTest(dir: string, cases: PromtoolCase[], name = 'rules.test.yml'): Promise<RunResult> {
  const file = join(dir, name);
  await writeFile(file, await ruleTestFile(cases));
  return run(await promtool(), ['test', 'rules', file], { timeoutMs: 120_000 });
}

/** The labels of SAMPLES named NAME, filtered by a predicate on the labels. */
export function seriesOf(samples: Sample[], name: string, where: (l: Labels) => boolean = () => true): Sample[] {
  return samples.filter((s) => s.name === name && where(s.labels));
}
