/** Summaries, the printed table, and the comparison with the last saved result. */
import fs from 'node:fs';
import path from 'node:path';

export function spread(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { min: null, median: null, max: null };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { min: v[0], median, max: v[v.length - 1] };
}

const fmt = (x, digits = 0) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const ratioText = (s) => (s.median === null ? '-' : `${fmt(s.median, 3)} (${fmt(s.min, 3)}–${fmt(s.max, 3)})`);

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  return [line(headers), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The human-readable report of one engine's result. */
export function render(result) {
  const out = [];
  out.push(`leadtrail bench — ${result.engine}, ${result.rounds} round(s) × ${result.options.duration} s (drain ${result.options.drainDuration} s), ${result.options.connections} connections, ${result.machine.cores} cores, node ${result.machine.node}${result.options.smoke ? ', SMOKE (numbers mean nothing)' : ''}`);
  out.push('ratio: req/s over a baseline run right before the scenario, with the same calls, answering what leadtrail answered (node:http, parse JSON, answer JSON); round ratio: over the round\'s baseline answering a Create');
  out.push(`round baseline (a Create's answer): ${fmt(result.baseline.summary.reqPerSec.median)} req/s median (${fmt(result.baseline.summary.reqPerSec.min)}–${fmt(result.baseline.summary.reqPerSec.max)}), p99 ${fmt(result.baseline.summary.p99.median, 1)} ms, ${fmt(result.baseline.summary.cpuMsPerRequest?.median, 3)} CPU ms/req`);
  out.push('');
  const rows = Object.entries(result.scenarios).map(([id, s]) => {
    const m = s.summary;
    const bad = m.non2xx + m.errors; // autocannon counts timeouts among errors
    return [
      id,
      ratioText(m.ratio),
      fmt(m.reqPerSec.median),
      fmt(m.baselineReqPerSec?.median),
      m.roundRatio ? fmt(m.roundRatio.median, 3) : '-',
      fmt(m.p50.median, 1),
      `${fmt(m.p99.median, 1)} (max ${fmt(m.p99.max, 1)})`,
      `${fmt(m.cpuMsPerRequest?.median, 3)}${m.loopCpuMsPerRequest?.median != null ? ` (${fmt(m.loopCpuMsPerRequest.median, 3)})` : ''}`,
      m.callersPerBatch?.median != null ? fmt(m.callersPerBatch.median, 1) : '-',
      m.writerBusy?.median != null ? fmt(m.writerBusy.median, 2) : '-',
      fmt(m.peakRssMB, 0),
      bad === 0 ? '0' : `${m.non2xx}/${m.errors}${m.timeouts ? ` (${m.timeouts} timeouts)` : ''} !!`,
      `${fmt(m.loadAvg.min, 1)}–${fmt(m.loadAvg.max, 1)}`,
    ];
  });
  out.push(table(['scenario', 'ratio median (min–max)', 'req/s', 'baseline req/s', 'round ratio', 'p50 ms', 'p99 ms', 'CPU ms/req (event loop)', 'callers/batch', 'writer busy', 'peak RSS MB', 'non-2xx/errors', 'load avg'], rows));
  const drain = result.scenarios['async-drain'];
  if (drain) {
    for (const r of drain.rounds) {
      const d = r.drain;
      if (!d) {
        out.push(`async-drain round ${r.round}: FAILED: ${r.error}`);
        continue;
      }
      out.push(`async-drain round ${r.round}: accepted ${fmt(d.acceptedPerSec)}/s, Success ${fmt(d.succeededPerSec)}/s, backlog ${fmt(d.pendingAtStart)} → ${fmt(d.pendingAtEnd)} (${d.backlogSlopePerSec >= 0 ? '+' : ''}${fmt(d.backlogSlopePerSec)}/s): ${d.backlogGrew ? 'GREW' : 'did not grow'}${d.afterWindow ? `; accepts stopped, the worker alone then did ${fmt(d.afterWindow.drainAlonePerSec)}/s` : ''}`);
    }
  }
  for (const [id, s] of Object.entries(result.scenarios)) for (const r of s.rounds) if (r.error && id !== 'async-drain') out.push(`${id} round ${r.round}: FAILED: ${r.error}`);
  for (const f of result.startFailures ?? []) out.push(`server ${f.label} did not start on attempt ${f.attempt}: ${f.error.split('\n')[0]}`);
  const accept = result.scenarios['async-accept'];
  if (accept) {
    for (const r of accept.rounds) if (r.drainAfter) out.push(`async-accept round ${r.round}: the backlog of ${fmt(r.drainAfter.backlog)} emptied in ${fmt(r.drainAfter.seconds, 1)} s (${fmt((r.drainAfter.backlog - r.drainAfter.left) / r.drainAfter.seconds)}/s)${r.drainAfter.left ? `, ${fmt(r.drainAfter.left)} still pending` : ''}`);
  }
  const beside = result.scenarios['create-beside-search'];
  if (beside) {
    for (const r of beside.rounds) {
      if (r.beside) out.push(`create-beside-search round ${r.round}: ${fmt(r.beside.count)} heavy searches ended beside it (${fmt(r.beside.meanMs)} ms each${r.beside.failed ? `, ${r.beside.failed} FAILED` : ''}${r.beside.running ? '; one still running at the end' : ''}); the Creates' longest wait ${fmt(r.beside.maxMs)} ms, p99 ${fmt(r.p99, 1)} ms`);
    }
  }
  out.push('');
  out.push(`seed: ${Object.entries(result.seed.seconds).map(([k, v]) => `${k} ${fmt(v, 1)} s`).join(', ')} (${fmt(result.seed.leads)} leads, ${fmt(result.seed.requests)} async requests, ${fmt(result.seed.retrieveActivities)} activities on the Retrieve lead${result.seed.retrieveLoneMs ? `, one Retrieve alone ${fmt(result.seed.retrieveLoneMs)} ms` : ''})`);
  for (const m of result.machineLimit.summary) {
    out.push(`machine limit, ${m.store}, ${m.rowsPerCommit} row(s) per commit: ${fmt(m.commitsPerSec.median)} commits/s (${fmt(m.commitsPerSec.min)}–${fmt(m.commitsPerSec.max)}), ${fmt(m.rowsPerSec.median)} rows/s`);
  }
  out.push(`load average during the run: ${fmt(result.loadAvg.min, 2)}–${fmt(result.loadAvg.max, 2)}; whole run ${fmt(result.seconds)} s`);
  return out.join('\n');
}

/** The newest saved result of `engine` in `dir` (by `startedAt`), or null; `prefix` (`instructions-`) picks another kind of result. */
export function lastSaved(dir, engine, prefix = '') {
  if (!fs.existsSync(dir)) return null;
  const found = [];
  for (const f of fs.readdirSync(dir)) {
    if (!f.startsWith(`${prefix}${engine}-`) || !f.endsWith('.json')) continue;
    try {
      const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      if (r.engine === engine && r.startedAt && !r.options?.smoke) found.push({ file: f, r });
    } catch {
      /* not ours */
    }
  }
  found.sort((a, b) => String(a.r.startedAt).localeCompare(String(b.r.startedAt)));
  return found.at(-1) ?? null;
}

/**
 * What got slower than `before`: median ratio down, or p99 / peak RSS up, by more than `threshold`
 * (a fraction). Ratios, not req/s, because the baseline absorbs how busy the machine was. A result
 * saved before version 2 has only ratios to the round's baseline: those are compared with this
 * run's round ratios.
 */
export function compare(before, now, threshold) {
  const lines = [];
  const slower = [];
  for (const [id, s] of Object.entries(now.scenarios)) {
    const b = before.scenarios[id];
    if (!b) {
      lines.push(`${id}: new (not in the saved result)`);
      continue;
    }
    const sameKind = (before.version ?? 1) >= 2;
    const checks = [
      sameKind ? ['ratio', b.summary.ratio.median, s.summary.ratio.median, -1] : ['ratio', b.summary.ratio.median, s.summary.roundRatio?.median ?? s.summary.ratio.median, -1],
      ['p99 ms', b.summary.p99.median, s.summary.p99.median, 1],
      ['CPU ms/req', b.summary.cpuMsPerRequest?.median, s.summary.cpuMsPerRequest?.median, 1],
      ['peak RSS MB', b.summary.peakRssMB, s.summary.peakRssMB, 1],
    ];
    if (id === 'async-drain') checks.push(['Success/s', b.summary.succeededPerSec?.median, s.summary.succeededPerSec?.median, -1]);
    const notes = [];
    for (const [name, was, is, worseSign] of checks) {
      if (!Number.isFinite(was) || !Number.isFinite(is) || was === 0) continue;
      const change = (is - was) / was;
      const worse = change * worseSign > threshold;
      notes.push(`${name} ${fmt(was, name === 'ratio' || name === 'CPU ms/req' ? 3 : 1)} → ${fmt(is, name === 'ratio' || name === 'CPU ms/req' ? 3 : 1)} (${change >= 0 ? '+' : ''}${fmt(change * 100)}%)${worse ? ' SLOWER' : ''}`);
      if (worse) slower.push(`${id} ${name}`);
    }
    lines.push(`${id}: ${notes.join(', ')}`);
  }
  return { slower, lines };
}
