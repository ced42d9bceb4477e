// npm `http-proxy` with a keep-alive agent (see http-proxy-server.ts).

import { nodePeer } from './node-peer.ts';

export const httpProxyPeer = nodePeer({
  name: 'http-proxy',
  label: 'http-proxy',
  packageName: 'http-proxy',
  script: 'http-proxy-server.ts',
});
