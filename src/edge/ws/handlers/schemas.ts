import { z } from 'zod';

/** Shapes shared by several methods' parameter schemas. */
export const idSchema = z.string().min(1).max(128);
export const languageSchema = z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, 'a language code such as "en" or "es"');
/** Opaque mediasoup structures are checked by mediasoup itself; here only that they are objects. */
export const objectSchema = z.record(z.string(), z.unknown());
export const emptySchema = z.object({}).strict();
/** A video producer's layers: captured size and up to four simulcast downscales, lowest layer first (largest scale). */
export const videoLayoutSchema = z
  .object({
    width: z.number().int().min(16).max(7680),
    height: z.number().int().min(16).max(4320),
    scales: z.array(z.number().min(1).max(16)).min(1).max(4),
  })
  .strict()
  .refine((v) => v.scales.every((s, i) => i === 0 || s < v.scales[i - 1]!), { message: 'scales go from the lowest layer (largest downscale) to the highest', path: ['scales'] });
