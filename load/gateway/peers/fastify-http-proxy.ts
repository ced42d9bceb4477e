// npm `@fastify/http-proxy` on fastify (see fastify-proxy-server.ts).

import { nodePeer } from './node-peer.ts';

export const fastifyHttpProxyPeer = nodePeer({
  name: 'fastify-http-proxy',
  label: '@fastify/http-proxy',
  packageName: '@fastify/http-proxy',
  script: 'fastify-proxy-server.ts',
});
