import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { isLedgerError } from '../core/errors';
import { runAudit, type AuditOptions, type AuditReport } from '../audit/replay';
import { CliError, EXIT } from './exit-codes';

interface AuditCliOptions {
  vkey?: string;
  state?: string;
  keys?: string;
  watch?: boolean;
  interval: string;
  workers?: string;
  json?: boolean;
}

/**
 * Per user and per log: `${XDG_STATE_HOME:-~/.local/state}/scitt/audit/<origin>-<hash>`, the origin
 * made file-name safe. The hash covers the origin and the note key, so two logs that share an
 * origin (or whose origins sanitise alike) never share a state.
 */
export function defaultStateDir(origin: string, vkey: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  const name = origin.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80) || 'log';
  const id = createHash('sha256').update(`${origin}\n${vkey.trim()}`).digest('hex').slice(0, 12);
  return join(base, 'scitt', 'audit', `${name}-${id}`);
}

function readVkey(arg: string): string {
  // A verifier key always contains '+'; a path that exists is read instead.
  if (existsSync(arg) && statSync(arg).isFile()) return readFileSync(arg, 'utf8');
  return arg;
}

function readKeys(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e: any) {
    throw new CliError(`cannot read --keys ${path}: ${e?.code ?? e?.message}`, EXIT.USAGE);
  }
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function printHuman(r: AuditReport): void {
  const w = (s: string) => process.stdout.write(s + '\n');
  if (r.origin) w(`checkpoint   ${r.origin} @ ${r.treeSize}  root ${r.root}  (signature verified)`);
  if (r.previous) w(`previous     ${r.previous.treeSize}  root ${r.previous.root}`);
  if (r.entriesChecked > 0) {
    w(`replayed     entries ${r.from}..${r.to - 1}: ${r.entriesChecked} entries, ${r.trustChanges} trust change(s), ${Math.round(r.entriesPerSecond)} entries/s (${r.workers} worker thread(s))`);
    const t = r.timings;
    w(`time         download ${secs(t.downloadMs)}, parse ${secs(t.parseMs)}, hash ${secs(t.hashMs)}, verify ${secs(t.verifyMs)}, tree ${secs(t.treeMs)}, tiles ${secs(t.tilesMs)}; total ${secs(t.totalMs)}`);
  } else if (r.origin) {
    w(`replayed     nothing new since ${r.from}`);
  }
  for (const f of r.findings) {
    const where = f.index !== undefined ? `entry ${f.index}` : f.path ?? 'log';
    w(`FINDING      ${f.check} at ${where}${f.path && f.index !== undefined ? ` (${f.path})` : ''}: ${f.message}`);
  }
  if (r.findingsOmitted > 0) w(`FINDING      ... and ${r.findingsOmitted} more`);
  w(r.ok ? `OK           checkpoint ${r.treeSize} verified; state saved in ${r.stateDir}` : `FAILED       ${r.findings.length + r.findingsOmitted} finding(s); the state stays at the last verified checkpoint`);
}

/** Maps the engine's coded errors to exit codes; anything else is left to scitt.ts. */
function toCliError(e: unknown): unknown {
  if (!isLedgerError(e)) return e;
  const code = { UNREACHABLE: EXIT.UNAVAILABLE, BAD_USAGE: EXIT.USAGE, BAD_STATE: EXIT.USAGE, ABORTED: EXIT.FAILED }[e.code as string];
  return code === undefined ? e : new CliError(`${e.code}: ${e.message}`, code);
}

function progressBar(o: AuditCliOptions): Pick<AuditOptions, 'onStart' | 'onProgress'> & { stop(): void } {
  if (o.json || !process.stderr.isTTY) return { stop() {} };
  const bar = new SingleBar({ stream: process.stderr, format: 'audit |{bar}| {percentage}% | {value}/{total} entries | ETA {eta_formatted}', hideCursor: true, fps: 5 });
  let started = false;
  return {
    onStart: ({ from, to }) => {
      if (to > from) {
        bar.start(to - from, 0);
        started = true;
      }
    },
    onProgress: (done) => bar.update(done),
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

async function audit(url: string, o: AuditCliOptions): Promise<void> {
  if (!o.vkey) throw new CliError('give the log\'s note verifier key: --vkey <key or file> (the service serves it at /tlog/vkey; pin it once)', EXIT.USAGE);
  const interval = Number(o.interval);
  if (!(interval > 0)) throw new CliError('--interval must be a positive number of seconds', EXIT.USAGE);
  const workers = o.workers === undefined ? undefined : Number(o.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0 && workers <= 64)) throw new CliError('--workers must be an integer 0..64', EXIT.USAGE);
  const vkey = readVkey(o.vkey);
  const base: AuditOptions = {
    url,
    vkey,
    stateDir: o.state ?? ((origin) => defaultStateDir(origin, vkey)),
    keys: o.keys ? readKeys(o.keys) : undefined,
    workers,
  };
  const once = async (signal?: AbortSignal): Promise<AuditReport> => {
    const bar = progressBar(o);
    try {
      return await runAudit({ ...base, signal, onStart: bar.onStart, onProgress: bar.onProgress });
    } finally {
      bar.stop();
    }
  };

  if (!o.watch) {
    let r: AuditReport;
    try {
      r = await once();
    } catch (e) {
      const ce = toCliError(e);
      if (o.json && ce instanceof CliError) process.stdout.write(JSON.stringify({ ok: false, url, error: ce.message, exitCode: ce.exitCode }) + '\n');
      throw ce;
    }
    if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else printHuman(r);
    process.exitCode = r.ok ? EXIT.OK : EXIT.FAILED;
    return;
  }

  // --watch: audit each new checkpoint until SIGINT (a second one exits at once).
  const ac = new AbortController();
  let wake: (() => void) | undefined;
  const onSigint = () => {
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
    wake?.();
  };
  process.on('SIGINT', onSigint);
  let failed = false;
  let last = '';
  try {
    while (!ac.signal.aborted) {
      try {
        const r = await once(ac.signal);
        failed ||= !r.ok;
        const key = `${r.treeSize}/${r.root}/${r.ok}`;
        if (key !== last) {
          if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
          else printHuman(r);
          last = key;
        }
      } catch (e) {
        if (isLedgerError(e) && e.code === 'ABORTED') break;
        const ce = toCliError(e);
        // A monitor outlives outages; anything else (usage, state) stops it.
        if (!(ce instanceof CliError) || ce.exitCode !== EXIT.UNAVAILABLE) throw ce;
        process.stderr.write(`scitt audit: ${ce.message}; retrying in ${interval} s\n`);
      }
      if (ac.signal.aborted) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, interval * 1000);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  process.exitCode = failed ? EXIT.FAILED : EXIT.OK;
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('replay and re-verify the log: checkpoint signature, consistency with the last run, every entry, signature, registration decision and tile')
    .argument('<url>', 'service base URL')
    .option('--vkey <key>', "the log's note verifier key (<name>+<id>+<key>), or a file holding it; pin it once from /tlog/vkey")
    .option('--state <dir>', 'state directory (default: ${XDG_STATE_HOME:-~/.local/state}/scitt/audit/<origin>-<hash of origin and key>)')
    .option('--keys <file>', 'pinned service keys (COSE_KeySet, from `scitt keys`); default: fetched on the first run and pinned in the state')
    .option('--watch', 'keep auditing each new checkpoint until interrupted (Ctrl-C)')
    .option('--interval <seconds>', 'how often --watch polls the checkpoint', '10')
    .option('--workers <n>', 'signature verification threads (default: one per core; 0: none)')
    .option('--json', 'print the report as JSON (one line per checkpoint with --watch)')
    .addHelpText('after', '\nExit codes: 0 everything verifies, 1 a finding (printed with its index or tile path and check), 2 usage or state error, 3 service unreachable.')
    .exitOverride((err) => {
      // Commander has printed the problem; usage errors exit 2 like the rest of the CLI says.
      process.exit(err.exitCode === 0 ? 0 : EXIT.USAGE);
    })
    .action((url: string, o: AuditCliOptions) => audit(url, o));
}
