/**
 * A progress line for long CLI work (seed), drawn by cli-progress on stderr, and only when stderr is
 * a terminal: piped or redirected output (CI logs, `> out.json`) gets no control characters.
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** One more item done; `stage` names what is being done (e.g. `leads`). */
  tick(stage: string): void;
  stop(): void;
}

const NONE: Progress = { tick() {}, stop() {} };

export function progressLine(what: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total === 0) return NONE;
  const bar = new SingleBar(
    { stream, format: `${what} [{bar}] {value}/{total} {stage}`, hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
  );
  bar.start(total, 0, { stage: '' });
  let stopped = false;
  return {
    tick: (stage) => bar.increment(1, { stage }),
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
