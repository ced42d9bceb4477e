// The test certificates of this folder (README.md says how they were made),
// for TLS backends on 127.0.0.1 and the upstream TLS settings that trust them.

import { readFileSync } from 'node:fs';
import type { UpstreamSubjectAltName, UpstreamTls } from '../../upstream.ts';

export type Leaf = 'backend' | 'other' | 'self-signed' | 'expired';

export function pem(file: string): string {
  return readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');
}

/** Server options serving a leaf of this folder. */
export function serving(leaf: Leaf): { key: string; cert: string } {
  return { key: pem(`${leaf}.key`), cert: pem(`${leaf}.crt`) };
}

export const TEST_CA = pem('ca.crt');
export const OTHER_CA = pem('other-ca.crt');

/** Upstream TLS settings; by default trust the test CA and expect backend.example. */
export function upstreamTls(
  settings: {
    serverName?: string;
    ca?: readonly string[] | undefined;
    subjectAltNames?: readonly UpstreamSubjectAltName[];
  } = {},
): UpstreamTls {
  const resolved = {
    serverName: settings.serverName ?? 'backend.example',
    ca: 'ca' in settings ? settings.ca : [TEST_CA],
    subjectAltNames: settings.subjectAltNames ?? [],
  };
  return { ...resolved, key: JSON.stringify(resolved) };
}
