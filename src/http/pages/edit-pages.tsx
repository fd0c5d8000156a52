import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ReactElement } from 'react';
import { z } from 'zod';
import type { PublicRequest } from '../../app/authorize-public.js';
import type { AppContext } from '../../app/context.js';
import { editSharedRecord } from '../../app/edit-shared-record.js';
import { resourceIdParam } from '../../app/link-inputs.js';
import { openRecordEditor } from '../../app/open-record-editor.js';
import { AppError } from '../../domain/errors.js';
import { statusFor } from '../error-handler.js';
import { idParams, isPreviewRequest } from '../public/shared-api.js';
import { EditRecordView } from './components/edit-form.js';
import { PreviewView, RefusalView } from './components/views.js';
import { readEditForm } from './edit-form-input.js';
import type { RefusalCopy } from './refusals.js';

type App = Parameters<FastifyPluginAsyncZod>[0];

/** What the share pages lend their edit pages: rendering, and the grant cookie's round trip. */
export type PageKit = {
  sendPage(reply: FastifyReply, page: ReactElement): FastifyReply;
  pageRequest(request: FastifyRequest, id: string): { base: string; sent: string | undefined; req: PublicRequest };
  keepGrant(reply: FastifyReply, base: string, sent: string | undefined, grant: string | null, expiresAt: number | null): void;
};

/** The form is one field per input, each up to 100 000 characters, percent-encoded, twice (its value and what the form showed). */
const EDIT_FORM_LIMIT = 2 * 1024 * 1024;
const hide = true;
const recordParams = idParams.extend({ recordId: resourceIdParam });
const formBody = z.record(z.string().max(300), z.string().max(1_000_000)).nullish();

const snapshotCopy: RefusalCopy = {
  heading: 'This can’t be edited',
  body: 'This link shows a saved snapshot of the record, so it can’t be used to change it.',
  next: 'You can still read what was shared.',
  tone: 'stop',
};

const CHANGED_MEANWHILE = 'Someone else changed this record while you were editing it. The form now shows the current values: make your change again and save.';

/**
 * The edit form of a record for editor links (DESIGN §3), server rendered and
 * posted without script: `/<id>/edit` for a single-resource link's record,
 * `/<id>/records/<recordId>/edit` for a row of a collection. A save makes a
 * new version and leads back to the record (303); a refused value brings the
 * form back with what was typed and why (400); an edit made on a version
 * someone else has since replaced brings it back with the current values
 * (409). Other links' edit addresses get the refusal page (403).
 */
export function addEditPages(app: App, ctx: AppContext, kit: PageKit): void {
  const { sendPage, pageRequest, keepGrant } = kit;

  const refuseSnapshot = (reply: FastifyReply, back: string) => {
    reply.code(statusFor.conflict);
    return sendPage(reply, <RefusalView copy={snapshotCopy} back={back} />);
  };
  const isSnapshot = (e: unknown): e is AppError => e instanceof AppError && e.reason === 'conflict' && e.details?.conflict === 'snapshot';

  const showForm = async (request: FastifyRequest, reply: FastifyReply, id: string, recordId: string | null, recordPage: string) => {
    if (isPreviewRequest(request)) return sendPage(reply, <PreviewView />);
    const { base, sent, req } = pageRequest(request, id);
    try {
      const editor = await openRecordEditor(ctx, req, recordId);
      keepGrant(reply, base, sent, editor.grant, editor.grantExpiresAt);
      return sendPage(reply, <EditRecordView editor={editor} form={{ action: `${recordPage}/edit`, back: recordPage, baseVersion: editor.version }} />);
    } catch (e) {
      if (isSnapshot(e)) return refuseSnapshot(reply, recordPage);
      throw e;
    }
  };

  const save = async (request: FastifyRequest, reply: FastifyReply, id: string, recordId: string | null, recordPage: string, body: Record<string, string>) => {
    const { base, sent, req } = pageRequest(request, id);
    const posted = readEditForm(body);
    const action = `${recordPage}/edit`;
    try {
      const edited = await editSharedRecord(ctx, req, recordId, { fields: posted.fields, baseVersion: posted.baseVersion });
      keepGrant(reply, base, sent, edited.grant, edited.grantExpiresAt);
      return reply.redirect(recordPage, 303);
    } catch (e) {
      if (isSnapshot(e)) return refuseSnapshot(reply, recordPage);
      if (!(e instanceof AppError)) throw e;
      const key = typeof e.details?.key === 'string' ? e.details.key : undefined;
      const refusedValue = (e.reason === 'invalid_request' || e.reason === 'forbidden') && key !== undefined;
      if (e.reason !== 'conflict' && !refusedValue) throw e;
      // The form again, read with the grant in hand (no second view): its fields, and the version it is now at.
      const editor = await openRecordEditor(ctx, req, recordId);
      keepGrant(reply, base, sent, editor.grant, editor.grantExpiresAt);
      reply.code(statusFor[e.reason]);
      if (e.reason === 'conflict') {
        return sendPage(reply, <EditRecordView editor={editor} form={{ action, back: recordPage, baseVersion: editor.version, error: { message: CHANGED_MEANWHILE } }} />);
      }
      const label = editor.fields.find((f) => f.key === key)?.label ?? key;
      const message = e.reason === 'forbidden' ? `${label} can’t be edited through this link.` : `${label} ${String(e.details?.problem ?? 'is not valid')}.`;
      return sendPage(
        reply,
        <EditRecordView editor={editor} form={{ action, back: recordPage, baseVersion: posted.baseVersion ?? editor.version, typed: posted.typed, error: { message, key } }} />,
      );
    }
  };

  const recordPath = (base: string, recordId: string) => `${base}/records/${encodeURIComponent(recordId)}`;
  const baseOf = (id: string) => `${app.prefix}/${id}`;

  // A single-resource link's record.
  app.get('/:id/edit', { schema: { hide, params: idParams } }, (request, reply) => showForm(request, reply, request.params.id, null, baseOf(request.params.id)));
  app.post('/:id/edit', { bodyLimit: EDIT_FORM_LIMIT, schema: { hide, params: idParams, body: formBody } }, (request, reply) =>
    save(request, reply, request.params.id, null, baseOf(request.params.id), request.body ?? {}),
  );

  // A row of a collection (or, by its id, a single-resource link's record).
  app.get('/:id/records/:recordId/edit', { schema: { hide, params: recordParams } }, (request, reply) =>
    showForm(request, reply, request.params.id, request.params.recordId, recordPath(baseOf(request.params.id), request.params.recordId)),
  );
  app.post('/:id/records/:recordId/edit', { bodyLimit: EDIT_FORM_LIMIT, schema: { hide, params: recordParams, body: formBody } }, (request, reply) =>
    save(request, reply, request.params.id, request.params.recordId, recordPath(baseOf(request.params.id), request.params.recordId), request.body ?? {}),
  );
}
