// The CNI spec versions pier-cni speaks (the list lives in wire.ts, which
// the thin client shares), and how to compare them.

import { SUPPORTED_VERSIONS } from './wire.ts';

export { LATEST_VERSION, SUPPORTED_VERSIONS } from './wire.ts';
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];

export function isSupportedVersion(version: unknown): version is CniVersion {
  return typeof version === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(version);
}

/** Whether `version` is at least `min` (both supported versions). */
export function versionAtLeast(version: CniVersion, min: CniVersion): boolean {
  return SUPPORTED_VERSIONS.indexOf(version) >= SUPPORTED_VERSIONS.indexOf(min);
}
