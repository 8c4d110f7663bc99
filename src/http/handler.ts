import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services.js';

/** What a route's handler is: the services, the request (keys checked, body parsed) and the reply; it returns the answer's body. */
export type Handler = (s: Services, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
