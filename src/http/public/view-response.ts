import type { IncomingHttpHeaders } from 'node:http';
import type { PublicRequest } from '../../app/authorize-public.js';
import type { SharedView } from '../../app/view-shared-link.js';
import { iso } from '../presenters/common.js';
import { presentCollection, presentPublicLink, presentRecord } from '../presenters/shared.js';

// What the Fastify route and the server's fast path (fast-view.ts) share to open a link.

const GRANT_HEADER = 'x-porthole-grant';

/** The evaluator's view of who is asking, from the headers only (secrets never logged). */
export function publicRequestFrom(
  headers: IncomingHttpHeaders,
  ip: string | undefined,
  identifier: string,
  extra: { password?: string; grant?: string; session?: string } = {},
): PublicRequest {
  const header = headers[GRANT_HEADER];
  return {
    identifier,
    grant: extra.grant ?? (Array.isArray(header) ? header[0] : header),
    password: extra.password,
    ip,
    userAgent: headers['user-agent'],
    session: extra.session,
  };
}

/** The body of an opened link. */
export const viewBody = (v: SharedView) => ({
  link: presentPublicLink(v.link),
  kind: v.content.kind,
  ...(v.content.kind === 'record' ? { resource: presentRecord(v.content) } : { collection: presentCollection(v.content) }),
  grant: v.grant,
  grant_expires_at: iso(v.grantExpiresAt),
});
