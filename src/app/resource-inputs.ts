import { z } from 'zod';
import { fieldFormats } from '../domain/resource.js';
import { keyName } from './link-inputs.js';

const label = z.string().min(1).max(200);

export const putResourceTypeBody = z
  .object({
    label: label.optional(),
    fields: z
      .array(z.object({ key: keyName, label: label.optional(), format: z.enum(fieldFormats).default('text'), public: z.boolean().default(false) }).strict())
      .max(200)
      .default([]),
    tables: z
      .array(
        z
          .object({
            key: keyName,
            label: label.optional(),
            columns: z.array(z.object({ key: keyName, label: label.optional(), format: z.enum(fieldFormats).default('text') }).strict()).max(100),
          })
          .strict(),
      )
      .max(20)
      .default([]),
  })
  .strict();
export type PutResourceTypeBody = z.infer<typeof putResourceTypeBody>;

const fieldValue = z.union([z.string().max(100_000), z.number(), z.boolean(), z.null()]);

export const putResourceBody = z
  .object({
    title: z.string().min(1).max(500),
    fields: z.record(keyName, fieldValue).refine((f) => Object.keys(f).length <= 500, 'at most 500 fields').default({}),
    tables: z
      .record(keyName, z.array(z.record(keyName, fieldValue)).max(100_000))
      .refine((t) => Object.keys(t).length <= 20, 'at most 20 tables')
      .default({}),
  })
  .strict();
export type PutResourceBody = z.infer<typeof putResourceBody>;
