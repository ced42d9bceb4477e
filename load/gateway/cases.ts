// The gateway benchmark's cases: what each request is and what the backend
// answers. Tables of data, not code paths: a case is a path on the backend
// and, for the upload, the wrk Lua script that sets the body.

import { wrkBodyScript } from '../bench/wrk.ts';

export const ONE_MIB = 1024 * 1024;

/** The backend's answer to GET /small: small enough that per-request work dominates. */
export const SMALL_BODY = 'hello from the pier benchmark backend\n';

export interface GatewayCase {
  name: string;
  title: string;
  /** Path on the backend (and through every proxy). */
  path: string;
  method: 'GET' | 'POST';
  /** Body bytes one request moves: the answer's for GETs, the upload's for POSTs. */
  bodyBytes: number;
  /** wrk Lua script setting method and body, when the request carries one. */
  lua?: string;
}

export const gatewayCases: GatewayCase[] = [
  {
    name: 'small',
    title: 'small answer',
    path: '/small',
    method: 'GET',
    bodyBytes: Buffer.byteLength(SMALL_BODY),
  },
  {
    name: 'download',
    title: '1 MiB download',
    path: '/download',
    method: 'GET',
    bodyBytes: ONE_MIB,
  },
  {
    name: 'upload',
    title: '1 MiB upload',
    path: '/upload',
    method: 'POST',
    bodyBytes: ONE_MIB,
    lua: wrkBodyScript('POST', ONE_MIB),
  },
];
