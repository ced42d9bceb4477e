// A demo backend for the quickstart: answers every request with what it saw
// (its own name, the method, path, and headers) as JSON, so a curl through the
// gateway shows which Service answered and what the gateway forwarded.

import { createServer, type Server } from 'node:http';

export interface EchoServer {
  readonly name: string;
  readonly url: string;
  close(): Promise<void>;
}

export async function startEchoServer(
  name: string,
  host: string,
  port: number,
): Promise<EchoServer> {
  const server: Server = createServer((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    req.on('end', () => {
      const body = `${JSON.stringify({ server: name, method: req.method, path: req.url, headers: req.headers, bodyBytes: size }, null, 2)}\n`;
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, a socket-level error must never become an uncaught one.
  server.on('error', () => {});
  return {
    name,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
