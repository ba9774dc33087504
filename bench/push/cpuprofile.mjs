// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by area and the top functions.
//   node bench/push/cpuprofile.mjs FILE.cpuprofile [TOP]
// Used by bench/push.mjs --cpu-prof. "socket writes" is libuv's writeBuffer: on loopback the kernel
// does the whole TCP path (and wakes sshd) inside that call, so it stands for the cost per SSH packet.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

function area(frame) {
  const { functionName: fn, url = '' } = frame;
  if (fn === '(idle)') return 'idle (waiting for the network / sshd)';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)') return 'V8/native (module compile, …)';
  if (fn === 'writeBuffer' && !url) return 'socket writes (one per SSH packet)';
  if (/ssh2\/lib\/protocol\/SFTP/.test(url)) return 'ssh2 SFTP';
  if (/ssh2\/lib\/protocol\/(crypto|kex)/.test(url) || /^node:internal\/crypto/.test(url)) return 'crypto (kex, signatures, ciphers, hashes)';
  if (/ssh2\//.test(url)) return 'ssh2 other';
  if (/node_modules\//.test(url)) return 'other dependencies';
  if (/\/dist\//.test(url)) return 'dbtls';
  if (!url && ['open', 'openFileHandle', 'read', 'fstat', 'close', 'readFileUtf8'].includes(fn)) return 'local file reads';
  if (url.startsWith('node:')) return 'node internals';
  return 'other native';
}

/** { totalMs, areas: [[name, ms]], top: [[function, ms]] } */
export function summarize(path, topN = 12) {
  const p = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const areas = {};
  const fns = {};
  let total = 0;
  for (const [id, us] of self) {
    const f = byId.get(id).callFrame;
    total += us;
    const a = area(f);
    areas[a] = (areas[a] ?? 0) + us;
    const where = (f.url || '').replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/');
    const k = `${f.functionName || '(anonymous)'}${where ? ` ${where}:${f.lineNumber + 1}` : ''}`;
    fns[k] = (fns[k] ?? 0) + us;
  }
  const ms = (us) => Math.round(us / 100) / 10;
  return {
    totalMs: ms(total),
    areas: Object.entries(areas).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, ms(v)]),
    top: Object.entries(fns).sort((a, b) => b[1] - a[1]).slice(0, topN).map(([k, v]) => [k, ms(v)]),
  };
}

export function format(s) {
  return [
    `  ${s.totalMs} ms sampled`,
    ...s.areas.map(([k, v]) => `    ${String(v).padStart(7)} ms  ${k}`),
    '  top functions (self time):',
    ...s.top.map(([k, v]) => `    ${String(v).padStart(7)} ms  ${k}`),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!process.argv[2]) { console.error('usage: node bench/push/cpuprofile.mjs FILE.cpuprofile [TOP]'); process.exit(2); }
  console.log(format(summarize(process.argv[2], Number(process.argv[3] ?? 12))));
}
