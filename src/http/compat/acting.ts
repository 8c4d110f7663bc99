import type { FastifyRequest } from 'fastify';
import { actingUserId } from '../../domain/accounts.js';
import { actingAs, type Ctx } from '../../domain/context.js';
import type { Services } from '../../services.js';

/**
 * The services' context acting as the user of the call's access key, so that leads it creates are
 * owned and created by that user and updates are made by them (OwnerId, CreatedBy, ModifiedBy).
 */
export async function callCtx(s: Services, req: FastifyRequest): Promise<Ctx> {
  return actingAs(s.ctx, await actingUserId(s.store, req.principal.accountId, req.principal.credential));
}
