// The http-proxy peer (npm `http-proxy`), as its README sets it up, with a
// keep-alive agent to the upstream. Run under Node 24 by the harness:
//   node http-proxy-server.ts --port P --upstream http://127.0.0.1:B --workers N

import { Agent, createServer, type ServerResponse } from 'node:http';
import httpProxy from 'http-proxy';
import { failStartup, parseServerArgs, serveWithWorkers } from './serve-workers.ts';

const args = parseServerArgs(process.argv.slice(2));

function serve(): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const proxy = httpProxy.createProxyServer({ target: args.upstream, agent });
  // An upstream error answers 502 (or drops a half-sent answer): never an uncaught error.
  proxy.on('error', (_error, _req, res) => {
    const response = res as ServerResponse;
    if (typeof response.writeHead === 'function' && !response.headersSent) {
      response.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
    } else {
      res.destroy();
    }
  });
  const server = createServer((req, res) => proxy.web(req, res));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(args.port, '127.0.0.1', () => resolve());
  });
}

await serveWithWorkers(args.workers, serve).catch(failStartup);
