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
  const dist = clean.indexOf('/dist/'); // our gateway as `npm start` runs it (compiled src/)
  if (dist >= 0) return clean.slice(dist + 1);
  return clean.replace(/^.*\/bench\//, 'bench/');
}

/**
 * Where a function's self time goes, by package: node_modules packages by name, `src/ (gateway)` for our code (src/
 * or its compiled dist/), `graphql-jit (compiled query)` for the functions graphql-jit generates per query (they have
 * no URL), socket I/O and other V8/Node natives by name, the garbage collector on its own.
 */
function packageOf(fn: string, where: string): string {
  if (where.startsWith('(')) {
    if (fn.startsWith('(')) return fn;
    if (/__field|ResolverHandler|MapItemHandler|MapHandler|^query$|^mutation$/.test(fn))
      return 'graphql-jit (compiled query)';
    if (/^(writev|writeUtf8String|writeLatin1String|writeBuffer|read|utf8Slice|latin1Slice)$/.test(fn))
      return '(native: socket I/O, string encoding)';
    if (fn.startsWith('RegExp: ')) return '(native: regular expressions)';
    return '(native/builtin)';
  }
  if (where.startsWith('node:')) return 'node: core';
  if (where.startsWith('src/') || where.startsWith('dist/')) return 'src/ (gateway)';
  if (where.startsWith('@')) return where.split('/').slice(0, 2).join('/');
  return where.split('/')[0]!;
}

/** Self time by function (samples × their time deltas), excluding (idle). */
export function summariseProfile(
  file: string,
  top = 25,
): {
  rows: ProfileRow[];
  totalMs: number;
  idleMs: number;
  /** share of busy time spent in the garbage collector */
  gcPct: number;
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
    const pkg = packageOf(e.fn, e.where);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + e.us);
  }
  const byPackage = [...pkgs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 16)
    .map(([pkg, us]) => ({ pkg, selfMs: us / 1000, selfPct: (100 * us) / totalUs }));
  const gcUs = pkgs.get('(garbage collector)') ?? 0;
  return { rows, totalMs: totalUs / 1000, idleMs: idleUs / 1000, gcPct: (100 * gcUs) / totalUs, byPackage };
}
