// The connection-specific headers (RFC 9110 7.6.1; RFC 9113 8.2.2 forbids
// them on HTTP/2): they describe one hop, so a proxy never passes them on as
// they are, and route edits may not touch them. One list, so the request
// scan, the response filter, the protected-edit sets and mirrors agree.

export const HOP_BY_HOP_HEADERS: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'upgrade',
  'http2-settings',
];
