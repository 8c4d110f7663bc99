/**
 * Where the server's time went: a V8 CPU profile (`node --cpu-prof`, written by the server when it
 * stops) summed by where each sample's running function lives. Self time only, so the shares add up
 * to 100%: native work is counted in the JavaScript function that called it (better-sqlite3's
 * statements appear as Kysely's SQLite driver `executeQuery`, a socket write as `writev`).
 */
import fs from 'node:fs';
import path from 'node:path';

/** Node flags that make a process write its CPU profile into `dir` when it exits (not allowed in NODE_OPTIONS). */
export const profileArgs = (dir) => ['--cpu-prof', `--cpu-prof-dir=${dir}`];

/** What a call frame belongs to: a package, one of leadtrail's files (`dist/…`), a Node module, or V8's own (GC, idle). */
function owner(frame) {
  const url = frame.url ?? '';
  if (!url) return frame.functionName ? `(${frame.functionName.replace(/^\(|\)$/g, '')})` : '(native)';
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1];
  const own = url.match(/\/dist\/(.+)$/);
  if (own) return `leadtrail ${own[1]}`;
  if (url.startsWith('node:')) return url;
  return path.basename(url);
}

/**
 * The thread a profile file is of: node names them `CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile`,
 * thread 0 being the event loop (SQLite's writer and checkpoint threads write their own).
 */
const threadOf = (file) => Number(path.basename(file).split('.')[4]);

/**
 * Summarises the event loop's `.cpuprofile` in `dir` (the newest, if several processes wrote one):
 * `{ file, totalMs, byOwner: [{ what, share }], topFunctions: [{ what, share }], threads }`, shares
 * as fractions of all samples, largest first; `threads` the same summary (top 5) of each other
 * thread's profile of that process, with its `busy` share (samples not idle). Null when the folder
 * has no profile.
 */
export function summariseProfile(dir, top = 15) {
  if (!fs.existsSync(dir)) return null;
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f));
  if (files.length === 0) return null;
  const byAge = files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  const main = byAge.find((f) => threadOf(f) === 0) ?? byAge[0];
  const pid = path.basename(main).split('.')[3];
  const threads = byAge
    .filter((f) => f !== main && path.basename(f).split('.')[3] === pid)
    .map((f) => {
      const s = summariseFile(f, 5);
      const idle = s.byOwner.find((o) => o.what === '(idle)')?.share ?? 0;
      return { thread: threadOf(f), busy: 1 - idle, ...s };
    })
    .sort((a, b) => a.thread - b.thread);
  return { ...summariseFile(main, top), threads };
}

function summariseFile(file, top) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const byOwner = new Map();
  const byFunction = new Map();
  for (const [id, dt] of self) {
    const f = nodes.get(id).callFrame;
    const o = owner(f);
    byOwner.set(o, (byOwner.get(o) ?? 0) + dt);
    const fn = `${f.functionName || '(anonymous)'} — ${o}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
  }
  const ranked = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([what, t]) => ({ what, share: total ? t / total : 0 }));
  return { file, totalMs: total / 1000, byOwner: ranked(byOwner), topFunctions: ranked(byFunction) };
}

/** The summary as text lines for the bench's report. */
export function renderProfile(label, s) {
  const pct = (x) => `${(x * 100).toFixed(1).padStart(5)}%`;
  return [
    `CPU profile of ${label}, event loop (${(s.totalMs / 1000).toFixed(1)} s sampled, self time; ${s.file}):`,
    ...s.byOwner.map((r) => `  ${pct(r.share)}  ${r.what}`),
    '  top functions:',
    ...s.topFunctions.map((r) => `  ${pct(r.share)}  ${r.what}`),
    ...(s.threads ?? []).flatMap((t) => [
      `  thread ${t.thread}: busy ${pct(t.busy).trim()} of the time; top functions:`,
      ...t.topFunctions.filter((r) => r.what !== '(idle) — (idle)').map((r) => `    ${pct(r.share)}  ${r.what}`),
    ]),
  ].join('\n');
}
