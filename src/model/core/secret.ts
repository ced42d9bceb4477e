// core/v1 Secret. Pier reads TLS certificates from these.
//
// As the API server does on write: type defaults to Opaque, and stringData is
// merged into data (base64-encoded, stringData winning) and dropped, so
// readers only ever look at data. A kubernetes.io/tls Secret must carry
// tls.crt and tls.key.

import { Buffer } from 'node:buffer';
import { z } from 'zod';
import { kubeObject } from '../meta.ts';

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_SIZE = 1024 * 1024;

/** Secret and ConfigMap data keys: alphanumerics, '-', '_' or '.', at most 253 characters. */
export function checkDataKeys(map: Record<string, string>, ctx: z.RefinementCtx): void {
  for (const key of Object.keys(map)) {
    if (key.length > 253 || !SECRET_KEY.test(key)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message:
          "invalid key: must consist of alphanumerics, '-', '_' or '.', at most 253 characters",
      });
    }
  }
}

const dataMap = z.record(z.string(), z.string()).superRefine((map, ctx) => {
  checkDataKeys(map, ctx);
  for (const [key, value] of Object.entries(map)) {
    if (!BASE64.test(value.replace(/\s+/g, ''))) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: 'must be base64-encoded (use stringData for plain text)',
      });
    }
  }
});

const stringDataMap = z.record(z.string(), z.string()).superRefine(checkDataKeys);

export const secretSchema = kubeObject('Secret', 'dns1123-subdomain', {
  type: z.string().default('Opaque'),
  data: dataMap.optional(),
  stringData: stringDataMap.optional(),
  immutable: z.boolean().optional(),
})
  .transform(({ stringData, ...secret }) => {
    if (stringData === undefined) return secret;
    const data: Record<string, string> = { ...secret.data };
    for (const [key, value] of Object.entries(stringData))
      data[key] = Buffer.from(value, 'utf8').toString('base64');
    return { ...secret, data };
  })
  .superRefine((secret, ctx) => {
    let size = 0;
    for (const value of Object.values(secret.data ?? {}))
      size += Math.floor((value.length * 3) / 4);
    if (size > MAX_SIZE)
      ctx.addIssue({
        code: 'custom',
        path: ['data'],
        message: 'may not be more than 1 MiB in total',
      });
    if (secret.type === TLS_SECRET_TYPE) {
      for (const key of ['tls.crt', 'tls.key']) {
        if (secret.data?.[key] === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['data', key],
            message: `Required value: a ${TLS_SECRET_TYPE} Secret must carry ${key}`,
          });
        }
      }
    }
  });

export type Secret = z.output<typeof secretSchema>;

/** A data entry decoded, or undefined when the Secret has no such key. */
export function secretValue(secret: Secret, key: string): Buffer | undefined {
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64');
}

/** The certificate chain and key of a kubernetes.io/tls Secret (PEM), or undefined when it is not one. */
export function tlsKeyPair(secret: Secret): { cert: Buffer; key: Buffer } | undefined {
  if (secret.type !== TLS_SECRET_TYPE) return undefined;
  const cert = secretValue(secret, 'tls.crt');
  const key = secretValue(secret, 'tls.key');
  return cert === undefined || key === undefined ? undefined : { cert, key };
}
