import '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticateApiKey, authenticateSession } from '../app/authenticate.js';
import type { AppContext } from '../app/context.js';
import type { Actor } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';

export const SESSION_COOKIE = 'porthole_session';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Actor;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Resolves the caller of a management route: an API key, or a session cookie with its CSRF header. */
export function requireActor(ctx: AppContext) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const auth = request.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      if (!m) throw new AppError('unauthenticated', 'Use Authorization: Bearer phk_…');
      const appUser = request.headers['x-porthole-actor'];
      request.actor = await authenticateApiKey(ctx, m[1], Array.isArray(appUser) ? appUser[0] : appUser);
      return;
    }
    const sessionId = request.cookies?.[SESSION_COOKIE];
    if (sessionId) {
      const csrf = request.headers['x-csrf-token'];
      const { actor } = await authenticateSession(ctx, sessionId, {
        stateChanging: !SAFE_METHODS.has(request.method),
        csrfHeader: Array.isArray(csrf) ? csrf[0] : csrf,
      });
      request.actor = actor;
      return;
    }
    throw new AppError('unauthenticated', 'Sign in, or send Authorization: Bearer phk_…');
  };
}

/** The actor set by `requireActor`; routes behind it can rely on it. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new AppError('unauthenticated', 'Sign in, or send Authorization: Bearer phk_…');
  return request.actor;
}
