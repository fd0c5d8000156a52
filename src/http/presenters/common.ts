import { z } from 'zod';

/** Epoch milliseconds → ISO 8601 (or null). */
export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export const errorSchema = z.object({
  error: z.string(),
  reason: z.string(),
  field: z.string().optional(),
  rule: z.string().optional(),
  request_id: z.string().optional(),
});

/** Error responses every route may give, for the OpenAPI document. */
export const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
  410: errorSchema,
  422: errorSchema,
  429: errorSchema,
};

export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next_cursor: z.string().nullable() });
