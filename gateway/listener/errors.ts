// The listener's error table (convention 9): opening a port, using a
// certificate, and the requests the listener refuses before any route is
// looked up (their codes go out on the x-pier-error header and in the body).

import { errorTable } from '../../src/errors.ts';

export const ListenerErrors = errorTable('GW_LISTEN', {
  FAILED: (address: string, port: number, cause: string) =>
    `cannot listen on ${address}:${port} (${cause}): ${hintFor(cause)}`,
  CERTIFICATE: (secret: string, cause: string) =>
    `the certificate in Secret ${secret} cannot be used (${cause}): check that tls.crt holds a PEM certificate chain and tls.key its PEM private key`,
  BAD_REQUEST: (why: string) =>
    `refused a malformed or ambiguous request (${why}): conflicting Content-Length/Transfer-Encoding, obs-fold and bad chunks are never forwarded`,
  HEADERS_TOO_LARGE: (why: string) =>
    `refused a request whose headers are too large (${why}): raise gateway.limits.maxHeaderBytes or gateway.limits.maxHeaders if clients need it`,
  REQUEST_TIMEOUT: (why: string) =>
    `closed a connection whose request did not arrive in time (${why}): gateway.limits.headersTimeoutMs and requestTimeoutMs`,
  PAYLOAD_TOO_LARGE: (why: string) => `refused a request body (${why})`,
  METHOD_NOT_ALLOWED: (method: string) =>
    `refused ${method}: the gateway routes requests to Services and is not a forward proxy`,
});

function hintFor(cause: string): string {
  if (cause.includes('EADDRINUSE'))
    return 'another process holds the port without SO_REUSEPORT; stop it or change the Gateway listener port';
  if (cause.includes('EACCES'))
    return 'ports below 1024 need root or CAP_NET_BIND_SERVICE; use a higher Gateway listener port';
  if (cause.includes('EADDRNOTAVAIL'))
    return 'the address is not on this host; check gateway.address';
  return 'check gateway.address and the Gateway listener port';
}
