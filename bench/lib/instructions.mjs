/**
 * Instructions per call, counted by valgrind's callgrind: the bench's `--instructions` mode.
 *
 * On this kind of machine the same build's rounds spread by a fifth, so a change worth 5–10% cannot
 * be seen in wall-clock rounds. Callgrind counts the instructions a process runs, which does not
 * depend on how busy the machine is; what the server does by timing (the callers a write batch
 * holds, timers, garbage collection, compiling) still varies, so the calls are counted in windows
 * and the report gives their spread (docs/performance.md). A server runs under it some fifty
 * times slower, with counting off; once the server is warm, counting is turned on for a fixed
 * number of calls and off again (`callgrind_control`), and the counts are dumped, one file per
 * thread (`--separate-threads=yes`).
 *
 * Counts are work, not time: an instruction of a slow path or a cache miss costs more than one of a
 * tight loop. A change that removes instructions is a change to try in wall-clock rounds, not a
 * measured speed-up (docs/performance.md, twenty-seventh and twenty-eighth sessions).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Whether valgrind's callgrind and its control tool can be run here. */
export function callgrindAvailable() {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The command that runs node under callgrind with counting off, writing `<outFile>.<dump>-<thread>`
 * files. `--smc-check=all`: V8 writes the machine code it then runs, which valgrind must see.
 */
export function callgrindWrapper(outFile) {
  return ['valgrind', '--tool=callgrind', '--smc-check=all', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${outFile}`];
}

/** Runs `callgrind_control <args> <pid>`; throws unless it says OK (it exits 0 whatever happened). */
function control(pid, ...args) {
  const out = execFileSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  if (!/^\s*OK\.\s*$/m.test(out)) throw new Error(`callgrind_control ${args.join(' ')} ${pid}: ${out.trim().slice(0, 300)}`);
}

/**
 * Counts what process `pid` (started with callgrindWrapper(outFile)) runs during `run()`, and
 * returns `{ threads: [{ thread, kind, instructions, compiler }], total, compiler }`: instructions
 * of each thread that ran any (kind: 'event loop', 'worker thread' for Node worker threads such as
 * SQLite's writer, 'V8 helper' for V8's garbage-collector and compiler threads, 'other'), and of
 * them run by V8's optimizing compiler on its helper threads, which differs from one run to the next
 * while the code still settles. `dump` numbers the process's dumps from 1, one per call.
 */
export async function countDuring(pid, outFile, dump, run) {
  control(pid, '--zero');
  control(pid, '--instr=on');
  try {
    await run();
  } finally {
    control(pid, '--instr=off');
  }
  control(pid, '--dump');
  const dir = path.dirname(outFile);
  const prefix = `${path.basename(outFile)}.${dump}-`;
  // The files are written by the time callgrind_control says OK; a file without its totals line
  // is one that was not written whole, and fails the count rather than counting as nothing.
  const files = fs.readdirSync(dir).filter((f) => f.startsWith(prefix));
  const partial = files.filter((f) => !/^totals: \d+/m.test(fs.readFileSync(path.join(dir, f), 'utf8')));
  if (files.length === 0 || partial.length > 0) throw new Error(`callgrind's dump ${dump} of ${outFile}: ${files.length === 0 ? 'no files' : `no totals in ${partial.join(', ')}`}`);
  const threads = files
    .map((f) => ({ thread: Number(f.slice(prefix.length)), ...readCounts(path.join(dir, f)) }))
    .filter((t) => t.instructions > 0)
    .sort((a, b) => a.thread - b.thread);
  if (!threads.some((t) => t.kind === 'event loop')) throw new Error(`callgrind's dump ${dump} of ${outFile} counted nothing on the event loop: was counting on?`);
  return {
    threads,
    total: threads.reduce((a, t) => a + t.instructions, 0),
    compiler: threads.reduce((a, t) => a + t.compiler, 0),
  };
}

/**
 * The entry points of V8's compile jobs on its helper threads, whose calls are counted as the
 * compiler's work: Turbofan's (Node 20's V8 and Node 24's name it differently), Maglev's and the
 * concurrent baseline compiler's (Node 24).
 */
const COMPILER = /^v8::internal::(?:OptimizingCompileDispatcher::CompileTask::RunInternal|OptimizingCompileTaskExecutor::CompileTask::Run|maglev::MaglevConcurrentDispatcher::JobTask::Run|baseline::ConcurrentBaselineCompiler::JobDispatcher::Run)\(/;

/**
 * One thread's dump: its total, what kind of thread it is (by the functions it ran), and the
 * inclusive cost of its calls into the optimizing compiler. Callgrind's format names each function
 * once as `fn=(id) name` and later as `fn=(id)`; the line after `calls=` holds the call's inclusive
 * cost.
 */
export function readCounts(file) {
  const text = fs.readFileSync(file, 'utf8');
  const total = Number(/^totals: (\d+)/m.exec(text)?.[1] ?? 0);
  const thread = Number(/^thread: (\d+)/m.exec(text)?.[1] ?? 0);
  const names = new Map();
  let compiler = 0;
  let target = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('fn=') || line.startsWith('cfn=')) {
      const m = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line);
      if (m) {
        if (m[2] !== undefined) names.set(m[1], m[2]);
        if (line.startsWith('cfn=')) target = names.get(m[1]) ?? null;
      }
    } else if (line.startsWith('calls=')) {
      const cost = Number(lines[i + 1]?.trim().split(/\s+/)[1] ?? 0);
      if (target !== null && COMPILER.test(target)) compiler += cost;
      i += 1;
    }
  }
  const ran = (name) => text.includes(name);
  // A thread's outer frames appear only if entered while counting: a Node worker thread is a libuv
  // loop of its own (SQLite's writer, its checkpointer), a V8 helper picks tasks from the platform.
  const kind = thread === 1 ? 'event loop' : ran('uv_run') ? 'worker thread' : ran('PlatformWorkerThread') ? 'V8 helper' : 'other';
  return { instructions: total, kind, compiler };
}
