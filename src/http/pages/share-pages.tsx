import '@fastify/cookie';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { z } from 'zod';
import { addComment } from '../../app/add-comment.js';
import { denial, type PublicRequest } from '../../app/authorize-public.js';
import { commentForm } from '../../app/comment-inputs.js';
import type { AppContext } from '../../app/context.js';
import { exportSharedLink } from '../../app/export-shared-link.js';
import { keyName, resourceIdParam } from '../../app/link-inputs.js';
import { listSharedComments } from '../../app/list-comments.js';
import { listSharedTable } from '../../app/list-shared-table.js';
import { listSharedRecordTable, openSharedRecord } from '../../app/open-shared-record.js';
import { COLLECTION_TABLE, type CollectionContent, type TablePage } from '../../app/shared-content.js';
import { sharedLinkMeta } from '../../app/shared-link-meta.js';
import { startEmailVerification } from '../../app/start-email-verification.js';
import { viewSharedLink, type PublicLink } from '../../app/view-shared-link.js';
import { AppError } from '../../domain/errors.js';
import { startErrorReply, statusFor } from '../error-handler.js';
import { sendExport, type ExportFormat } from '../public/export-stream.js';
import { idParams, isPreviewRequest, publicRequest } from '../public/shared-api.js';
import { CommentsSection } from './components/comments.js';
import { addEditPages } from './edit-pages.js';
import type { Chrome } from './components/toolbar.js';
import { CollectionView, PreviewView, RecordView, RefusalView, TablePageView, type RefusalForm } from './components/views.js';
import { negotiateLocale } from './format.js';
import { pagingLinks, readPageState, type PageState } from './paging.js';
import { refusalCopy, type RefusalCopy } from './refusals.js';

/** The grant of a page view; its Path is the link's page path, so it travels with that link's pages only. */
export const GRANT_COOKIE = 'porthole_grant';
/** Form posts (a password, an email address) are tiny; anything bigger is not ours. */
const FORM_BODY_LIMIT = 4096;
/** The comment form is the one larger form: 5000 characters, up to 9 bytes each once percent-encoded. */
const COMMENT_FORM_LIMIT = 64 * 1024;

const pageQuery = z.object({
  cursor: z.string().max(512).optional(),
  prev: z.string().max(8192).optional(),
  n: z.coerce.number().int().min(1).max(1_000_000).optional(),
});
const exportQuery = z.object({ table: keyName.optional() });
/** `comments` is the cursor of a later page of a page's comments. */
const commentsQuery = { comments: z.string().max(512).optional() };
const hide = true;

function sendPage(reply: FastifyReply, page: ReactElement): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(`<!DOCTYPE html>${renderToStaticMarkup(page)}`);
}

const IDENTIFIER_PATH = /^\/([A-Za-z0-9_-]{1,64})(\/[^?#]*)?/;

/** The link's page path (`/shared/<token>` or `/s/<code>`) and what follows it, read from the URL of any request under the prefix. */
function whereIn(prefix: string, url: string): { base: string | null; inside: boolean } {
  const rest = url.slice(prefix.length);
  const m = IDENTIFIER_PATH.exec(rest);
  if (!m) return { base: null, inside: false };
  return { base: `${prefix}/${m[1]}`, inside: m[2] !== undefined && m[2] !== '/' };
}

const checkMailCopy: RefusalCopy = {
  heading: 'Check your mail',
  body: 'We’ve sent you a 6-digit code.',
  next: 'Nothing arrived? Check your spam folder, or make sure you used the address the link was sent to.',
  tone: 'lock',
};

const notFoundInside: RefusalCopy = {
  heading: 'We couldn’t find that here',
  body: 'What you asked for isn’t part of this shared link.',
  next: 'Go back to the shared page to see what is.',
  tone: 'stop',
};

const BACK_TO_PAGE = new Set(['export_disabled', 'records_disabled', 'forbidden', 'invalid_cursor', 'invalid_request']);

function waitText(seconds: number): string {
  return seconds < 90 ? `Please try again in ${seconds} seconds.` : `Please try again in about ${Math.ceil(seconds / 60)} minutes.`;
}

/** The refusal page for an error on a share page: the status of DESIGN §4, friendly copy, a form where one helps. */
function refusalPage(err: AppError, request: FastifyRequest, prefix: string): ReactElement {
  const { base, inside } = whereIn(prefix, request.url);
  let copy = refusalCopy(err.reason);
  let back: string | undefined;
  let form: RefusalForm | undefined;
  // A record or table missing from a live link is not the link missing: say so, and offer the way back.
  if (err.reason === 'not_found' && inside && base && err.message !== denial('not_found').message) {
    copy = notFoundInside;
    back = base;
  }
  if (BACK_TO_PAGE.has(err.reason) && base && inside) back = base;
  if ((err.reason === 'password_required' || err.reason === 'password_invalid') && base) {
    form = { kind: 'password', action: `${base}/unlock`, invalid: err.reason === 'password_invalid' };
  }
  if (err.reason === 'auth_required' && base) form = { kind: 'email', action: `${base}/verify/start` };
  if (err.reason === 'rate_limited' && typeof err.details?.retryAfter === 'number') copy = { ...copy, next: waitText(err.details.retryAfter) };
  return <RefusalView copy={copy} form={form} back={back} reference={err.reason === 'internal_error' ? request.id : undefined} />;
}

/**
 * A refusal page for a request the router refused before any route ran
 * (a malformed URL under /shared or /s).
 */
export function sendRefusalPage(reply: FastifyReply, request: FastifyRequest, err: AppError): FastifyReply {
  const prefix = request.url.startsWith('/s/') ? '/s' : '/shared';
  return sendPage(reply, refusalPage(err, request, prefix));
}

/**
 * The pages of one path family (`/shared/<token>` or `/s/<code>`), registered
 * under that prefix so its error and not-found handlers answer every request
 * beneath it with a page, never JSON.
 */
const linkPages =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    const prefix = app.prefix;
    const secureCookie = ctx.config.publicUrl.startsWith('https:');

    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    app.setErrorHandler((err: FastifyError, request, reply) => sendPage(reply, refusalPage(startErrorReply(err, request, reply), request, prefix)));
    app.setNotFoundHandler((request, reply) => {
      reply.code(404);
      return sendPage(reply, refusalPage(new AppError('not_found', 'There is nothing at this address'), request, prefix));
    });

    const sentGrant = (request: FastifyRequest): string | undefined => request.cookies?.[GRANT_COOKIE];

    /** Hands the browser the grant of a new view, for as long as the grant lives. */
    const keepGrant = (reply: FastifyReply, base: string, sent: string | undefined, grant: string | null, expiresAt: number | null) => {
      if (!grant || grant === sent || expiresAt === null) return;
      const maxAge = Math.max(1, Math.floor((expiresAt - ctx.now()) / 1000));
      reply.setCookie(GRANT_COOKIE, grant, { path: base, httpOnly: true, sameSite: 'lax', secure: secureCookie, maxAge });
    };

    /** Where a page request stands: the link's page path, the grant cookie it sent, the request for the use-cases. */
    const pageRequest = (request: FastifyRequest, id: string) => {
      const sent = sentGrant(request);
      return { base: `${prefix}/${id}`, sent, req: publicRequest(request, id, { grant: sent }) };
    };

    // Editor links' record forms: /<id>/edit and /<id>/records/<recordId>/edit.
    addEditPages(app, ctx, { sendPage, pageRequest, keepGrant });

    /** A table's page: the first one came with the record; later ones are read at the cursor with the grant in hand. */
    const tableAt = async (key: string, first: TablePage | undefined, state: PageState, later: () => Promise<TablePage | undefined>): Promise<TablePage> => {
      const table = state.cursor ? await later() : first;
      if (!table) throw new AppError('not_found', `This record has no table ${key}`);
      return table;
    };

    const chromeFor = (request: FastifyRequest, base: string, link: PublicLink): Chrome => ({
      base,
      locale: negotiateLocale(request.headers['accept-language']),
      now: ctx.now(),
      link,
    });

    /** A collection page: the view's own first page, or the page at the cursor in the query; `below` under the table. */
    const sendCollection = async (reply: FastifyReply, req: PublicRequest, first: CollectionContent, chrome: Chrome, base: string, state: PageState, below?: ReactElement | null) => {
      let content = first;
      if (state.cursor) {
        const t = await listSharedTable(ctx, req, COLLECTION_TABLE, state.cursor);
        if ('kind' in t.page) content = t.page;
      }
      return sendPage(
        reply,
        <CollectionView chrome={chrome} content={content} paging={pagingLinks(base, state, content.nextCursor)}>
          {below}
        </CollectionView>,
      );
    };

    /**
     * The comments under a page, for links that take them (none for viewer
     * links): read through the gate with the page's grant in hand, so they
     * count no second view. `recordId` says whose, as listSharedComments
     * reads it; `page` is where the page lives, for its comment pages.
     */
    const commentsBelow = async (req: PublicRequest, chrome: Chrome, page: string, recordId: string | null | undefined, cursor: string | undefined): Promise<ReactElement | null> => {
      if (!chrome.link.permissions.comment) return null;
      const { page: comments } = await listSharedComments(ctx, req, { recordId, cursor });
      const block = {
        items: comments.items,
        later: comments.nextCursor ? `${page}?comments=${encodeURIComponent(comments.nextCursor)}#comments` : null,
        first: cursor ? `${page}#comments` : null,
        action: `${chrome.base}/comments`,
        recordId: recordId ?? undefined,
      };
      return <CommentsSection chrome={chrome} block={block} />;
    };

    // The link's page: a record with its tables, or a page of a collection.
    app.get('/:id', { schema: { hide, params: idParams, querystring: pageQuery.extend(commentsQuery) } }, async (request, reply) => {
      if (isPreviewRequest(request)) return sendPage(reply, <PreviewView />);
      const { base, sent, req } = pageRequest(request, request.params.id);
      const v = await viewSharedLink(ctx, req);
      keepGrant(reply, base, sent, v.grant, v.grantExpiresAt);
      const chrome = { ...chromeFor(request, base, v.link), edit: v.content.kind === 'record' && v.link.permissions.edit ? `${base}/edit` : undefined };
      const granted = { ...req, grant: v.grant ?? sent };
      // A record's page shows every comment of its link; a collection's, those on the list as a whole.
      const comments = await commentsBelow(granted, chrome, base, v.content.kind === 'record' ? undefined : null, request.query.comments);
      if (v.content.kind === 'record') {
        return sendPage(
          reply,
          <RecordView chrome={chrome} record={v.content} tablesPath={base} ownDownloads>
            {comments}
          </RecordView>,
        );
      }
      return sendCollection(reply, granted, v.content, chrome, base, readPageState(request.query), comments);
    });

    // One record of a collection, when the link lets rows be opened.
    app.get('/:id/records/:recordId', { schema: { hide, params: idParams.extend({ recordId: resourceIdParam }), querystring: z.object(commentsQuery) } }, async (request, reply) => {
      if (isPreviewRequest(request)) return sendPage(reply, <PreviewView />);
      const { recordId } = request.params;
      const { base, sent, req } = pageRequest(request, request.params.id);
      const r = await openSharedRecord(ctx, req, recordId);
      keepGrant(reply, base, sent, r.grant, r.grantExpiresAt);
      const chrome = { ...chromeFor(request, base, r.link), edit: r.link.permissions.edit ? `${base}/records/${encodeURIComponent(recordId)}/edit` : undefined };
      const recordPath = `${base}/records/${encodeURIComponent(recordId)}`;
      const comments = await commentsBelow({ ...req, grant: r.grant ?? sent }, chrome, recordPath, recordId, request.query.comments);
      return sendPage(
        reply,
        <RecordView chrome={chrome} record={r.record} back={{ href: base, label: `Back to ${r.record.typeLabel}` }} tablesPath={recordPath}>
          {comments}
        </RecordView>,
      );
    });

    // Later pages of a table of a record opened from a collection.
    app.get(
      '/:id/records/:recordId/tables/:key',
      { schema: { hide, params: idParams.extend({ recordId: resourceIdParam, key: keyName }), querystring: pageQuery } },
      async (request, reply) => {
        if (isPreviewRequest(request)) return sendPage(reply, <PreviewView />);
        const { recordId, key } = request.params;
        const { base, sent, req } = pageRequest(request, request.params.id);
        const recordPath = `${base}/records/${encodeURIComponent(recordId)}`;
        // Opening the record names it for the page's head, and counts the view when no grant covers it.
        const r = await openSharedRecord(ctx, req, recordId);
        keepGrant(reply, base, sent, r.grant, r.grantExpiresAt);
        const state = readPageState(request.query);
        const table = await tableAt(key, r.record.tables.find((t) => t.key === key), state, async () =>
          (await listSharedRecordTable(ctx, { ...req, grant: r.grant ?? sent }, recordId, key, state.cursor)).page,
        );
        const path = `${recordPath}/tables/${encodeURIComponent(key)}`;
        return sendPage(
          reply,
          <TablePageView chrome={chromeFor(request, base, r.link)} title={r.record.title} typeLabel={r.record.typeLabel} table={table} paging={pagingLinks(path, state, table.nextCursor)} back={recordPath} />,
        );
      },
    );

    // Later pages of a record's table (the first 100 rows are on the record's page).
    app.get('/:id/tables/:key', { schema: { hide, params: idParams.extend({ key: keyName }), querystring: pageQuery } }, async (request, reply) => {
      if (isPreviewRequest(request)) return sendPage(reply, <PreviewView />);
      const { key } = request.params;
      const { base, sent, req } = pageRequest(request, request.params.id);
      // The view names the link and the record for the page's head, and counts the view when no grant covers it.
      const v = await viewSharedLink(ctx, req);
      keepGrant(reply, base, sent, v.grant, v.grantExpiresAt);
      const chrome = chromeFor(request, base, v.link);
      const state = readPageState(request.query);
      const grant = v.grant ?? sent;
      if (v.content.kind === 'collection') {
        if (key !== COLLECTION_TABLE) throw new AppError('not_found', `A collection link has one table: ${COLLECTION_TABLE}`);
        return sendCollection(reply, { ...req, grant }, v.content, chrome, base, state);
      }
      const record = v.content;
      const table = await tableAt(key, record.tables.find((t) => t.key === key), state, async () => {
        const t = await listSharedTable(ctx, { ...req, grant }, key, state.cursor);
        return 'kind' in t.page ? undefined : t.page;
      });
      const path = `${base}/tables/${encodeURIComponent(key)}`;
      return sendPage(reply, <TablePageView chrome={chrome} title={record.title} typeLabel={record.typeLabel} table={table} paging={pagingLinks(path, state, table.nextCursor)} back={base} exportTable={key} />);
    });

    // Downloads, streamed exactly like the JSON API's; the page's grant cookie covers them.
    const exportRoute = (format: ExportFormat) =>
      app.get(`/:id/export.${format}`, { schema: { hide, params: idParams, querystring: exportQuery } }, async (request, reply) => {
        if (isPreviewRequest(request)) return sendPage(reply, <PreviewView />);
        const { base, sent, req } = pageRequest(request, request.params.id);
        const exp = await exportSharedLink(ctx, req, request.query.table);
        // An export opened directly (no cookie yet) counted a view: keep its grant like the page would.
        keepGrant(reply, base, sent, exp.grant, exp.grantExpiresAt);
        return sendExport(reply, exp, format);
      });
    exportRoute('csv');
    exportRoute('json');

    // The password form posts here; success is a view, its grant a cookie, and the reader lands on the page.
    app.post(
      '/:id/unlock',
      { schema: { hide, params: idParams, body: z.object({ password: z.string().max(200).optional() }).nullish() } },
      async (request, reply) => {
        const { id } = request.params;
        const base = `${prefix}/${id}`;
        const sent = sentGrant(request);
        const v = await viewSharedLink(ctx, publicRequest(request, id, { grant: sent, password: request.body?.password }));
        keepGrant(reply, base, sent, v.grant, v.grantExpiresAt);
        return reply.redirect(base, 303);
      },
    );

    const codeForm = (base: string, email: string, withPassword: boolean, invalid?: string): RefusalForm => ({
      kind: 'code',
      action: `${base}/verify/confirm`,
      restart: `${base}/verify/start`,
      email,
      withPassword,
      invalid,
    });

    // The email form posts here: a code goes to the address when the link allows it, and the code's form follows.
    app.post(
      '/:id/verify/start',
      { schema: { hide, params: idParams, body: z.object({ email: z.string().max(320).optional() }).nullish() } },
      async (request, reply) => {
        const { id } = request.params;
        const base = `${prefix}/${id}`;
        const req = publicRequest(request, id, { grant: sentGrant(request) });
        const meta = await sharedLinkMeta(ctx, req);
        if (!meta.requiresAuth) return reply.redirect(base, 303);
        const email = (request.body?.email ?? '').trim();
        if (!z.email().safeParse(email).success) {
          reply.code(400);
          return sendPage(reply, <RefusalView copy={refusalCopy('auth_required')} form={{ kind: 'email', action: `${base}/verify/start`, email, invalid: 'That doesn’t look like an email address. Please check it.' }} />);
        }
        const started = await startEmailVerification(ctx, req, email);
        const message = `If ${started.email} may open this link, a 6-digit code is on its way there. Enter it below; it expires in ${Math.round((started.expiresAt - ctx.now()) / 60_000)} minutes.`;
        return sendPage(reply, <RefusalView copy={checkMailCopy} message={message} form={codeForm(base, started.email, meta.requiresPassword)} />);
      },
    );

    // The code's form posts here; a right code is a view, its grant (carrying the proven address) a cookie, and the reader lands on the page.
    app.post(
      '/:id/verify/confirm',
      { schema: { hide, params: idParams, body: z.object({ email: z.string().max(320).optional(), code: z.string().max(20).optional(), password: z.string().max(200).optional() }).nullish() } },
      async (request, reply) => {
        const { id } = request.params;
        const base = `${prefix}/${id}`;
        const sent = sentGrant(request);
        const email = (request.body?.email ?? '').trim();
        if (!z.email().safeParse(email).success) return reply.redirect(base, 303);
        const password = request.body?.password;
        try {
          const v = await viewSharedLink(ctx, { ...publicRequest(request, id, { grant: sent, password }), emailCode: { email, code: request.body?.code ?? '' } });
          keepGrant(reply, base, sent, v.grant, v.grantExpiresAt);
          return reply.redirect(base, 303);
        } catch (e) {
          // A wrong code or password keeps the reader on the code's form, with what went wrong.
          if (!(e instanceof AppError) || !['code_invalid', 'password_invalid', 'password_required'].includes(e.reason)) throw e;
          reply.code(statusFor[e.reason]);
          const invalid = e.reason === 'code_invalid' ? 'That code didn’t work.' : 'That password didn’t work. Please try again.';
          return sendPage(reply, <RefusalView copy={refusalCopy(e.reason)} form={codeForm(base, email, password !== undefined || e.reason !== 'code_invalid', invalid)} />);
        }
      },
    );

    // The comment form posts here with the page's grant cookie (without one, this counts a view like opening the page);
    // the comment stored, the reader lands back on the page it was written on, at the comments.
    app.post('/:id/comments', { bodyLimit: COMMENT_FORM_LIMIT, schema: { hide, params: idParams, body: commentForm } }, async (request, reply) => {
      const { base, sent, req } = pageRequest(request, request.params.id);
      const { body, author_name, record_id } = request.body;
      const added = await addComment(ctx, req, { body, authorName: author_name ?? null, recordId: record_id });
      keepGrant(reply, base, sent, added.grant, added.grantExpiresAt);
      const page = record_id === undefined ? base : `${base}/records/${encodeURIComponent(record_id)}`;
      return reply.redirect(`${page}#comments`, 303);
    });

    // A reload or a bookmark of a form's address leads back to the page rather than to a dead end.
    // The identifier is whatever the address held, not yet checked: encoded, it cannot break the Location header.
    for (const path of ['/:id/unlock', '/:id/verify/start', '/:id/verify/confirm', '/:id/comments']) {
      app.get(path, { schema: { hide, params: idParams } }, async (request, reply) => reply.redirect(`${prefix}/${encodeURIComponent(request.params.id)}`, 303));
    }
  };

/**
 * The recipient's pages (DESIGN §5): `/shared/<token>` and `/s/<code>`, server
 * rendered, no script. Register inside the scope that adds the public security headers.
 */
export const sharePageRoutes =
  (ctx: AppContext): FastifyPluginAsync =>
  async (app) => {
    await app.register(linkPages(ctx), { prefix: '/shared' });
    await app.register(linkPages(ctx), { prefix: '/s' });
  };
