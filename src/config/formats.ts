// Value formats several settings share. Each returns a plain zod schema; the
// wording of what it accepts lives beside it, so sections reuse both.

import { z } from 'zod';
import { parseHostPort } from './host-port.ts';

/** `host:port`, port 0-65535 (0 picks a free port: tests). */
export function hostPort(): z.ZodString {
  return z.string().refine((value) => parseHostPort(value) !== undefined);
}
export const hostPortAccepts = (example: string): string => `host:port, e.g. ${example}`;

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A lower-case DNS name: `cluster.local`. */
export function dnsName(): z.ZodString {
  return z
    .string()
    .max(253)
    .refine((value) => value.split('.').every((label) => dnsLabel.test(label)));
}

/** One lower-case DNS label: `default`, `prod-eu`. */
export function dnsLabelName(): z.ZodString {
  return z.string().regex(dnsLabel);
}

/** A URL whose scheme is one of `schemes` (`memory`, `redis`, ...). */
export function urlWithScheme(schemes: readonly string[]): z.ZodString {
  return z.string().refine((value) => {
    if (!URL.canParse(value)) return false;
    return schemes.includes(new URL(value).protocol.slice(0, -1));
  });
}

/** A non-empty string. */
export function nonEmpty(): z.ZodString {
  return z.string().min(1);
}
