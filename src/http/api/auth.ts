import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { loginBody } from '../../app/account-inputs.js';
import type { AppContext } from '../../app/context.js';
import { getMe } from '../../app/get-me.js';
import { login } from '../../app/login.js';
import { logout } from '../../app/logout.js';
import { actorOf, SESSION_COOKIE } from '../auth.js';
import { errorResponses } from '../presenters/common.js';
import { presentSignedIn, signedInSchema } from '../presenters/member.js';

const tags = ['auth'];

/** HttpOnly keeps the id from scripts; Lax keeps it off cross-site writes; Secure wherever Porthole is served over HTTPS. */
const cookieOptions = (ctx: AppContext) =>
  ({ httpOnly: true, sameSite: 'lax', path: '/', secure: ctx.config.publicUrl.startsWith('https://') }) as const;

const sessionCookie = (request: FastifyRequest): string | undefined => request.cookies?.[SESSION_COOKIE] || undefined;

/** The answer carries the CSRF token: no cache may keep it. */
const noStore = (reply: FastifyReply) => reply.header('Cache-Control', 'no-store');

/** Signing in: the one dashboard route that needs no actor, so it is registered outside `requireActor`. */
export const loginRoutes =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/auth/login',
      {
        schema: {
          tags,
          summary: 'Sign in with email and password; sets the session cookie',
          security: [],
          body: loginBody,
          response: { 200: signedInSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const signedIn = await login(ctx, request.body, { client: request.ip, previousSessionId: sessionCookie(request) });
        reply.setCookie(SESSION_COOKIE, signedIn.sessionId, {
          ...cookieOptions(ctx),
          expires: new Date(signedIn.expiresAt),
          maxAge: Math.floor((signedIn.expiresAt - ctx.now()) / 1000),
        });
        noStore(reply);
        return presentSignedIn(signedIn);
      },
    );
  };

/** The session's own routes, behind `requireActor` (so signing out needs the CSRF header like any write). */
export const sessionRoutes =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/auth/logout',
      { schema: { tags, summary: 'Sign out: ends the session and clears its cookie', response: { 204: z.null().describe('Signed out'), ...errorResponses } } },
      async (request, reply) => {
        await logout(ctx, actorOf(request), sessionCookie(request));
        reply.clearCookie(SESSION_COOKIE, cookieOptions(ctx));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/v1/auth/me',
      { schema: { tags, summary: 'The signed-in member, their workspace, role and CSRF token', response: { 200: signedInSchema, ...errorResponses } } },
      async (request, reply) => {
        const me = await getMe(ctx, actorOf(request), sessionCookie(request));
        noStore(reply);
        return presentSignedIn(me);
      },
    );
  };
