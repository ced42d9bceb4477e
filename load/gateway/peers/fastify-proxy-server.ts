// The @fastify/http-proxy peer, as its README sets it up: fastify with the
// plugin forwarding everything to the upstream through @fastify/reply-from's
// default undici pool (keep-alive, 128 connections). Run under Node 24:
//   node fastify-proxy-server.ts --port P --upstream http://127.0.0.1:B --workers N

import fastifyHttpProxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { failStartup, parseServerArgs, serveWithWorkers } from './serve-workers.ts';

const args = parseServerArgs(process.argv.slice(2));

async function serve(): Promise<void> {
  // Uploads are 1 MiB; the default body limit is exactly that, so give headroom.
  const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 });
  await app.register(fastifyHttpProxy, { upstream: args.upstream });
  await app.listen({ port: args.port, host: '127.0.0.1' });
}

await serveWithWorkers(args.workers, serve).catch(failStartup);
