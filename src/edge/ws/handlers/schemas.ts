import { z } from 'zod';

/** Shapes shared by several methods' parameter schemas. */
export const idSchema = z.string().min(1).max(128);
export const languageSchema = z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'a language code such as "en" or "es"');
/** Opaque mediasoup structures are checked by mediasoup itself; here only that they are objects. */
export const objectSchema = z.record(z.string(), z.unknown());
export const emptySchema = z.object({}).strict();
