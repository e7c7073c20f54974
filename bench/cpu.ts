import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds used so far by process groups (Linux /proc; empty elsewhere): where a benchmark's time went. */
export function cpuSnapshot(groups: Record<string, (pid: number, comm: string, ppid: number) => boolean>): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(Object.keys(groups).map((g) => [g, 0]));
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  for (const p of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' ');
    const secs = (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks (100/s)
    const ppid = Number(f[1]);
    for (const [g, match] of Object.entries(groups)) if (match(Number(p), comm, ppid)) out[g] += secs;
  }
  return out;
}

/** Cores used per group between two snapshots over `seconds`. */
export function coresUsed(a: Record<string, number>, b: Record<string, number>, seconds: number): Record<string, number> {
  return Object.fromEntries(Object.keys(a).map((k) => [k, (b[k] - a[k]) / seconds]));
}

/** CPU seconds used so far by one thread (a process's main thread: tid = pid); 0 when unreadable. */
export function threadSeconds(pid: number, tid = pid): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** The machine's CPU time so far, all cores (Linux /proc/stat, in clock ticks): total and idle (incl. I/O wait). */
export function machineTicks(): { total: number; idle: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
    return { total: f.reduce((a, b) => a + b, 0), idle: f[3] + f[4] };
  } catch {
    return { total: 0, idle: 0 };
  }
}

/** Cores left idle between two machineTicks() readings (NaN when /proc/stat was unreadable). */
export function idleCores(a: { total: number; idle: number }, b: { total: number; idle: number }, cores: number): number {
  const total = b.total - a.total;
  return total > 0 ? ((b.idle - a.idle) / total) * cores : NaN;
}
