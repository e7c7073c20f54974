/**
 * `npm run bench [-- name...]`: runs the benchmarks (all, or those named: cose, log, http, audit),
 * prints one table and writes bench/results/bench-<time>.json. Not part of the test suite.
 */
import { machine, printTable, writeResults, type BenchRow } from './report';

const BENCHES: Record<string, () => Promise<{ run: () => Promise<BenchRow[]> }>> = {
  cose: async () => require('./cose.bench'),
  log: async () => require('./log.bench'),
  http: async () => require('./http.bench'),
  audit: async () => require('./audit.bench'),
};

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const selected = names.length ? names : Object.keys(BENCHES);
  const m = machine();
  process.stdout.write(`machine: ${m.cores} cores (${m.cpu}), node ${m.node}\n`);
  const rows: BenchRow[] = [];
  for (const name of selected) {
    const load = BENCHES[name];
    if (!load) throw new Error(`unknown bench ${name}; one of ${Object.keys(BENCHES).join(', ')}`);
    process.stdout.write(`running ${name}...\n`);
    try {
      const mod = await load();
      const r = await mod.run();
      rows.push(...r);
      printTable(r);
    } catch (e: any) {
      rows.push({ bench: name, metric: 'error', value: NaN, unit: '', note: String(e?.message ?? e).slice(0, 200) });
      process.stdout.write(`${name} failed: ${e?.stack ?? e}\n`);
    }
  }
  process.stdout.write('\nsummary\n');
  printTable(rows);
  process.stdout.write(`results: ${writeResults('bench', rows)}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
