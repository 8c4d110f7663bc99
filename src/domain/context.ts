import { randomUUID } from 'node:crypto';

/** Time and id generation, injected so that tests can pin them. */
export interface Ctx {
  now(): number;
  newId(): string;
  /**
   * The user acting: the one whose keys made the call (as `UserByAccessKey.Get` reports it). New
   * leads are owned and created by them, updates are made by them. Absent for the system itself.
   */
  userId?: string | null;
}

/** `ctx` acting as `userId` (one call or one async request). */
export function actingAs(ctx: Ctx, userId: string | null): Ctx {
  return { now: () => ctx.now(), newId: () => ctx.newId(), userId };
}

export const systemCtx: Ctx = { now: () => Date.now(), newId: () => randomUUID() };
