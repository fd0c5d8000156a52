import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { editSharedRecord } from '../../app/edit-shared-record.js';
import { keyName, resourceIdParam } from '../../app/link-inputs.js';
import { errorResponses, iso } from '../presenters/common.js';
import { presentPublicLink, presentRecord, publicLinkSchema, recordSchema } from '../presenters/shared.js';
import { grantFields, idParams, publicRequest, withGrant } from './shared-api.js';

const params = idParams.extend({ recordId: resourceIdParam });
const fieldValue = z.union([z.string().max(100_000), z.number(), z.boolean(), z.null()]);

export const editRecordBody = z
  .object({
    fields: z
      .record(keyName, fieldValue)
      .refine((f) => Object.keys(f).length >= 1, 'name at least one field to change')
      .refine((f) => Object.keys(f).length <= 500, 'at most 500 fields')
      .describe('The new values by field key; null clears a field. Only fields the link shows may be edited, each in its declared format.'),
    base_version: z
      .number()
      .int()
      .min(1)
      .max(2_147_483_647)
      .optional()
      .describe('The version the edit was made on (the `version` the record was read at). When the record has moved on since, nothing is written and the answer is 409 conflict.'),
  })
  .strict();
export type EditRecordBody = z.infer<typeof editRecordBody>;

export const editedRecordSchema = z.object({
  link: publicLinkSchema,
  resource: recordSchema,
  changed_fields: z.array(z.string()).describe('The keys whose values changed; empty when the edit changed nothing (then no version was made).'),
  ...grantFields,
});

/** `PATCH /v1/shared/{id}/records/{recordId}`: an editor link's holder edits the visible fields of a shared record. */
export const sharedEditRoutes =
  (ctx: AppContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.patch(
      '/v1/shared/:id/records/:recordId',
      {
        schema: {
          tags: ['shared'],
          security: [],
          summary: 'Edit fields of a shared record (editor links; makes a new resource version)',
          description:
            'For a single-resource link `recordId` is its resource id; for a collection link, a record inside its filter. ' +
            'Only fields the link shows can be edited (another field: 403 forbidden, naming it in `field`); each value must fit the field\'s format (400 invalid_request). ' +
            'A change makes a new immutable version with the other fields, the title and the tables as they were, and writes an `edited` event; identical values make none. ' +
            'A link pinned to a snapshot cannot edit (409 conflict). Without a grant (`X-Porthole-Grant`) the request counts a view and returns one.',
          params,
          querystring: z.object({}).strict(),
          body: editRecordBody,
          response: { 200: editedRecordSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const edited = await editSharedRecord(ctx, publicRequest(request, request.params.id), request.params.recordId, {
          fields: request.body.fields,
          baseVersion: request.body.base_version,
        });
        withGrant(reply, edited.grant);
        return {
          link: presentPublicLink(edited.link),
          resource: presentRecord(edited.record),
          changed_fields: edited.changed,
          grant: edited.grant,
          grant_expires_at: iso(edited.grantExpiresAt),
        };
      },
    );
  };
