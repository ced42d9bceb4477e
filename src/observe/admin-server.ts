// The admin HTTP server every Pier process runs (hono on @hono/node-server):
//
//   GET /healthz      200 `ok` while the process lives
//   GET /readyz       200 `ok` when every readiness check passes, else 503 listing the failing ones
//   GET /metrics      Prometheus text exposition of the process registry
//   GET /debug/state  JSON from the injected state() port (the Store's objects)
//
// Bound to loopback by default (admin.address): it is for probes, scrapers and
// operators, not for the world. close() stops accepting, lets open requests
// finish within a grace period, then cuts what is left.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { formatHostPort, parseHostPort } from '../config/host-port.ts';
import { ObserveErrors } from './errors.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { Readiness } from './readiness.ts';

export interface AdminServerOptions {
  /** `host:port`; port 0 picks a free one (see listen()'s result). */
  address: string;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  /** The /debug/state port: a JSON-serialisable snapshot. createStoreState(store) gives the Store's objects. */
  state: () => unknown;
  /** How long close() waits for open requests. Default 5000 ms. */
  closeGraceMs?: number;
}

export interface AdminAddress {
  host: string;
  port: number;
  /** `http://127.0.0.1:9901` */
  url: string;
}

export interface AdminServer {
  /** Starts listening; rejects with PIER_OBSERVE_ADMIN_LISTEN when the address is taken or not local. */
  listen(): Promise<AdminAddress>;
  /** Stops accepting and resolves once every connection is gone. Safe to call twice. */
  close(): Promise<void>;
}

export function createAdminServer(options: AdminServerOptions): AdminServer {
  const { logger: parent, metrics, readiness, state } = options;
  const logger = parent.child({ component: 'admin' });
  const target = parseHostPort(options.address);
  if (target === undefined) throw ObserveErrors.ADMIN_ADDRESS(options.address);

  const app = new Hono();
  app.get('/healthz', (c) => c.text('ok'));
  app.get('/readyz', async (c) => {
    const report = await readiness.evaluate();
    if (report.ready) return c.text('ok');
    const lines = report.failing.map((f) => `${f.name}: ${f.reason}`);
    return c.text(`not ready\n${lines.join('\n')}\n`, 503);
  });
  app.get('/metrics', async (c) =>
    c.body(await metrics.render(), 200, { 'Content-Type': metrics.contentType }),
  );
  app.get('/debug/state', async (c) => {
    let body: string;
    try {
      body = JSON.stringify(await state(), null, 2);
    } catch (error) {
      const failure = ObserveErrors.ADMIN_STATE(
        error instanceof Error ? error.message : String(error),
      );
      logger.error({ err: error, code: failure.code }, failure.message);
      return c.json({ error: { code: failure.code, message: failure.message } }, 500);
    }
    return c.body(body ?? 'null', 200, { 'Content-Type': 'application/json; charset=utf-8' });
  });
  app.notFound((c) =>
    c.text('not found; the admin server serves /healthz, /readyz, /metrics, /debug/state\n', 404),
  );
  app.onError((error, c) => {
    logger.error({ err: error, path: c.req.path }, 'admin request failed');
    return c.text(`internal error: ${error.message}\n`, 500);
  });

  // overrideGlobalObjects: false keeps the process's global Request/Response
  // untouched; the gateway in the same process relies on them.
  const server = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }) as Server;
  const graceMs = options.closeGraceMs ?? 5000;
  let closing: Promise<void> | undefined;

  return {
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException) => {
          reject(ObserveErrors.ADMIN_LISTEN(options.address, error.code ?? error.message));
        };
        server.once('error', onError);
        server.listen(target.port, target.host, () => {
          server.off('error', onError);
          server.on('error', (error) => logger.error({ err: error }, 'admin server error'));
          const bound = server.address() as AddressInfo;
          const address = { host: bound.address, port: bound.port };
          const url = `http://${formatHostPort(address)}`;
          logger.info({ address: formatHostPort(address) }, 'admin server listening');
          resolve({ ...address, url });
        });
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        const force = setTimeout(() => {
          logger.warn(
            { graceMs },
            'admin requests still open after the grace period; closing them',
          );
          server.closeAllConnections();
        }, graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          logger.info('admin server closed');
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
