// The observe error table (convention 9): logger, metrics, admin server, lifecycle.

import { errorTable } from '../errors.ts';

export const ObserveErrors = errorTable('OBSERVE', {
  METRIC_NAME: (name: string) => `metric name ${name} must be snake_case ([a-z_][a-z0-9_]*)`,
  METRIC_CLASH: (name: string, was: string) =>
    `metric ${name} is already registered as ${was}; use one definition per name`,
  ADMIN_ADDRESS: (address: string) =>
    `admin address ${JSON.stringify(address)} must be host:port, e.g. 127.0.0.1:9901`,
  ADMIN_LISTEN: (address: string, reason: string) =>
    `the admin server cannot listen on ${address}: ${reason}; set admin.address (PIER_ADMIN_ADDRESS, --admin.address) to a free host:port`,
  ADMIN_STATE: (reason: string) => `/debug/state failed: ${reason}`,
  SHUTDOWN_TIMEOUT: (names: string, graceMs: number) =>
    `shutdown did not finish within ${graceMs} ms: still waiting for ${names}; exiting anyway`,
  SHUTDOWN_CLOSER: (name: string, reason: string) => `closing ${name} failed: ${reason}`,
  FORCED_EXIT: (signal: string) => `${signal} during shutdown: exiting now without waiting`,
  UNCAUGHT: (kind: string, reason: string) => `${kind}: ${reason}; shutting down`,
});
