// core/v1 ConfigMap. Pier reads CA certificate bundles from these
// (BackendTLSPolicy caCertificateRefs: the key `ca.crt`).
//
// As the API server checks on write: keys as in Secrets, binaryData
// base64-encoded, no key in both maps, at most 1 MiB in total.

import { Buffer } from 'node:buffer';
import { z } from 'zod';
import { kubeObject } from '../meta.ts';
import { BASE64, checkDataKeys } from './secret.ts';

const MAX_SIZE = 1024 * 1024;

const binaryDataMap = z.record(z.string(), z.string()).superRefine((map, ctx) => {
  checkDataKeys(map, ctx);
  for (const [key, value] of Object.entries(map)) {
    if (!BASE64.test(value.replace(/\s+/g, '')))
      ctx.addIssue({ code: 'custom', path: [key], message: 'must be base64-encoded' });
  }
});

export const configMapSchema = kubeObject('ConfigMap', 'dns1123-subdomain', {
  data: z.record(z.string(), z.string()).superRefine(checkDataKeys).optional(),
  binaryData: binaryDataMap.optional(),
  immutable: z.boolean().optional(),
}).superRefine((configMap, ctx) => {
  let size = 0;
  for (const value of Object.values(configMap.data ?? {})) size += Buffer.byteLength(value);
  for (const value of Object.values(configMap.binaryData ?? {}))
    size += Math.floor((value.length * 3) / 4);
  if (size > MAX_SIZE)
    ctx.addIssue({
      code: 'custom',
      path: ['data'],
      message: 'may not be more than 1 MiB in total',
    });
  for (const key of Object.keys(configMap.binaryData ?? {})) {
    if (configMap.data?.[key] !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['binaryData', key],
        message: 'duplicate of key present in data',
      });
  }
});

export type ConfigMap = z.output<typeof configMapSchema>;
