// A TCP relay in Node.js (see tcp-relay-server.ts): what moving the bytes
// through Node.js's sockets costs here, for scale. Not a competitor: it
// never parses HTTP.

import { GATEWAY_V8_FLAGS } from '../../../gateway/workers/v8-flags.ts';
import { nodePeer } from './node-peer.ts';

export const tcpRelayPeer = nodePeer({
  name: 'node-tcp-relay',
  label: 'Node.js TCP relay (no HTTP; for scale)',
  script: 'tcp-relay-server.ts',
  nodeFlags: GATEWAY_V8_FLAGS,
  competes: false,
});
