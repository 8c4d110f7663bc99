/**
 * The event loop's side of the SQLite read thread (read-thread.ts): started at the first call, so a
 * server that never searches never pays for it (a V8 isolate: about 10 MB).
 */
import { Worker } from 'node:worker_threads';
import type { Repos } from '../store.js';
import type { ReadThreadData, FromReader, ToReader } from './read-thread.js';
import { decodeError } from './writer-protocol.js';

/** The read thread's young generation, in MB (as the writer thread's: short-lived garbage). */
const YOUNG_GENERATION_MB = 12;
/** Its old generation at most, in MB: past it the thread stops and its callers get the error. */
const OLD_GENERATION_MB = 1024;

interface Waiting {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export class ReadThread {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();

  /**
   * `script`: the built read-thread.js. `gate`: an error to fail every call with instead (the store
   * failed or closed), or null.
   */
  constructor(
    private readonly file: string,
    private readonly script: URL,
    private readonly gate: () => Error | null,
  ) {}

  /**
   * Runs `repos[repo][method](...args)` on the read thread, in a read transaction of its own.
   * Resolves with its result (as structured clone carries it); rejects with its error, or when the
   * thread stops first (it is started again at the next call).
   */
  call(repo: keyof Repos, method: string, args: unknown[]): Promise<unknown> {
    const shut = this.gate();
    if (shut) return Promise.reject(shut);
    const worker = (this.worker ??= this.start());
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      try {
        worker.postMessage({ id, repo, method, args } satisfies ToReader);
      } catch (e) {
        // Arguments structured clone refuses (a function).
        this.waiting.delete(id);
        reject(e as Error);
      }
    });
  }

  /** Stops the thread once the calls sent before have been answered. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    await exited;
  }

  private start(): Worker {
    const worker = new Worker(this.script, {
      workerData: { file: this.file } satisfies ReadThreadData,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: OLD_GENERATION_MB },
    });
    worker.on('message', (a: FromReader) => {
      const w = this.waiting.get(a.id);
      if (!w) return;
      this.waiting.delete(a.id);
      if (a.ok) w.resolve(a.value);
      else w.reject(decodeError(a.error));
    });
    const fail = (e: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the SQLite read thread stopped (exit code ${code})`)));
    return worker;
  }
}
