/**
 * `readCounts` (bench/lib/instructions.mjs): what `npm run bench -- --instructions` reads from one
 * thread's callgrind dump: its total, what kind of thread it is, and the instructions of its calls
 * into V8's optimizing compiler (callgrind's format names a function in full once, `fn=(id) name`,
 * and by its id after; the line after `calls=` holds the call's inclusive cost).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const lib = async (): Promise<any> => import(pathToFileURL(path.join(ROOT, 'bench', 'lib', 'instructions.mjs')).href);

/** Turbofan's compile job as Node 20's V8 names it, and as Node 24's does. */
const COMPILE = 'v8::internal::OptimizingCompileDispatcher::CompileTask::RunInternal()';
const COMPILE_24 = 'v8::internal::OptimizingCompileTaskExecutor::CompileTask::Run(v8::JobDelegate*)';

function dump(lines: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leadtrail-callgrind-'));
  const file = path.join(dir, 'callgrind.out.1-03');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('readCounts', () => {
  it("adds up the compiler's calls, named in full once and by id after, and tells a V8 helper thread", async () => {
    const { readCounts } = await lib();
    const file = dump([
      '# callgrind format',
      'version: 1',
      'creator: callgrind-3.19.0',
      'pid: 42',
      'thread: 3',
      'part: 1',
      'events: Ir',
      'fl=(1) ???',
      'fn=(1) node::(anonymous namespace)::PlatformWorkerThread(void*)',
      '0 10',
      `cfn=(2) ${COMPILE}`,
      'calls=1 0',
      '0 700',
      'cfn=(3) v8::internal::ScavengerCollector::JobTask::Run()',
      'calls=2 0',
      '0 250',
      'cfn=(2)',
      'calls=1 0',
      '0 300',
      `fn=(2)`,
      '0 1000',
      'fn=(3)',
      '0 250',
      'totals: 1260',
    ]);
    expect(readCounts(file)).toEqual({ instructions: 1260, kind: 'V8 helper', compiler: 1000 });
  });

  it("counts Node 24's compile jobs too: Turbofan's, Maglev's and the baseline compiler's", async () => {
    const { readCounts } = await lib();
    const file = dump([
      'thread: 4',
      'events: Ir',
      'fn=(1) node::(anonymous namespace)::PlatformWorkerThread(void*)',
      '0 1',
      `cfn=(2) ${COMPILE_24}`,
      'calls=1 0',
      '0 400',
      'cfn=(3) v8::internal::maglev::MaglevConcurrentDispatcher::JobTask::Run(v8::JobDelegate*)',
      'calls=1 0',
      '0 50',
      'cfn=(4) v8::internal::baseline::ConcurrentBaselineCompiler::JobDispatcher::Run(v8::JobDelegate*)',
      'calls=1 0',
      '0 5',
      'cfn=(5) v8::internal::ConcurrentMarking::JobTaskMajor::Run(v8::JobDelegate*)',
      'calls=1 0',
      '0 44',
      'totals: 500',
    ]);
    expect(readCounts(file)).toEqual({ instructions: 500, kind: 'V8 helper', compiler: 455 });
  });

  it('tells the event loop (thread 1) and a Node worker thread (a libuv loop of its own), with no compiler calls', async () => {
    const { readCounts } = await lib();
    const loop = dump(['thread: 1', 'events: Ir', 'fn=(1) uv_run', '0 500', 'totals: 500']);
    const worker = dump(['thread: 12', 'events: Ir', 'fn=(1) uv_run', '0 80', 'cfn=(2) sqlite3_step', 'calls=3 0', '0 20', 'fn=(2)', '0 20', 'totals: 100']);
    const unknown = dump(['thread: 7', 'events: Ir', 'fn=(1) start_thread', '0 5', 'totals: 5']);
    expect(readCounts(loop)).toEqual({ instructions: 500, kind: 'event loop', compiler: 0 });
    expect(readCounts(worker)).toEqual({ instructions: 100, kind: 'worker thread', compiler: 0 });
    expect(readCounts(unknown)).toEqual({ instructions: 5, kind: 'other', compiler: 0 });
  });
});
