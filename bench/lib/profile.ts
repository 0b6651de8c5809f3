/** Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, top N. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  fn: string;
  where: string;
  selfMs: number;
  selfPct: number;
}

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const clean = url.replace(/^file:\/\//, '');
  const nm = clean.lastIndexOf('node_modules/');
  if (nm >= 0) return clean.slice(nm + 'node_modules/'.length);
  const src = clean.indexOf('/src/');
  if (src >= 0) return clean.slice(src + 1);
  return clean.replace(/^.*\/bench\//, 'bench/');
}

/** Self time by function (samples × their time deltas), excluding (idle) and (program). */
export function summariseProfile(
  file: string,
  top = 25,
): {
  rows: ProfileRow[];
  totalMs: number;
  idleMs: number;
  byPackage: Array<{ pkg: string; selfMs: number; selfPct: number }>;
} {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const agg = new Map<string, { fn: string; where: string; us: number }>();
  let idleUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const name = node.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    totalUs += us;
    const where = `${shortUrl(node.callFrame.url)}${node.callFrame.url ? `:${node.callFrame.lineNumber + 1}` : ''}`;
    const key = `${name}@${where}`;
    const entry = agg.get(key) ?? { fn: name, where, us: 0 };
    entry.us += us;
    agg.set(key, entry);
  }
  const rows = [...agg.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ fn: e.fn, where: e.where, selfMs: e.us / 1000, selfPct: (100 * e.us) / totalUs }));
  const pkgs = new Map<string, number>();
  for (const e of agg.values()) {
    const w = e.where;
    const pkg = w.startsWith('(')
      ? e.fn.startsWith('(')
        ? e.fn
        : '(native/builtin)'
      : w.startsWith('node:')
        ? 'node: core'
        : w.startsWith('src/')
          ? 'src/ (gateway)'
          : w.startsWith('@')
            ? w.split('/').slice(0, 2).join('/')
            : w.split('/')[0]!;
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + e.us);
  }
  const byPackage = [...pkgs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([pkg, us]) => ({ pkg, selfMs: us / 1000, selfPct: (100 * us) / totalUs }));
  return { rows, totalMs: totalUs / 1000, idleMs: idleUs / 1000, byPackage };
}
