import { cpus, availableParallelism } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchRow {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
  note?: string;
}

export function machine() {
  return { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version, platform: process.platform };
}

export function printTable(rows: BenchRow[]): void {
  const head = ['bench', 'metric', 'value', 'unit', 'target', 'ok', 'note'];
  const body = rows.map((r) => [r.bench, r.metric, fmt(r.value), r.unit, r.target ?? '', r.pass === undefined ? '' : r.pass ? 'yes' : 'NO', r.note ?? '']);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 2 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ');
  process.stdout.write(line(head) + '\n' + w.map((n) => '-'.repeat(n)).join('  ') + '\n' + body.map(line).join('\n') + '\n');
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(v < 1 ? 3 : 2);
}

export function writeResults(name: string, rows: BenchRow[], extra: Record<string, unknown> = {}): string {
  const dir = join(__dirname, '../../bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), machine: machine(), rows, ...extra }, null, 2) + '\n');
  return file;
}
