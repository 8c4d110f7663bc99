import { randomUUID } from 'node:crypto';

/** Time and id generation, injected so that tests can pin them. */
export interface Ctx {
  now(): number;
  newId(): string;
}

export const systemCtx: Ctx = { now: () => Date.now(), newId: () => randomUUID() };
