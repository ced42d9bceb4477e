// Which protocol a cleartext connection speaks, from its first bytes: an
// HTTP/2 client with prior knowledge opens with the connection preface
// (RFC 9113 section 3.4); nothing else can (HTTP/1.1 has no method PRI).

/** `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` */
export const H2_PREFACE: Buffer = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type Sniffed = 'h2' | 'http1' | 'more';

/**
 * 'h2' when `head` starts with the preface, 'http1' when it cannot, 'more'
 * when it is a proper prefix of the preface (wait for the next bytes).
 */
export function sniffProtocol(head: Buffer): Sniffed {
  const n = Math.min(head.length, H2_PREFACE.length);
  for (let i = 0; i < n; i++) if (head[i] !== H2_PREFACE[i]) return 'http1';
  return head.length >= H2_PREFACE.length ? 'h2' : 'more';
}
