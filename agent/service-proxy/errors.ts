// The service proxy's error table (convention 9): stable codes, messages that
// say what to do.

import { errorTable } from '../../src/errors.ts';

export const ProxyErrors = errorTable('PROXY', {
  SYNC_FAILED: (table: string, detail: string) =>
    `the service proxy could not apply its nftables table ${table} (${detail}); the data path keeps the last table that applied, and the proxy retries with a full sync`,
  TABLE_CHANGED: (table: string, found: string) =>
    `nftables table ip ${table} was changed by someone else (${found}); the proxy writes it again in full. Leave the table to the proxy: give other rules a table of their own`,
  PORT_CONFLICT: (service: string, claims: string) =>
    `Service ${service} is not served on ${claims}: another Service already is; give one of them another address or port`,
  BAD_SETTING: (setting: string, reason: string) => `serviceProxy.${setting}: ${reason}`,
  NOT_STARTED: () => 'the service proxy has not synced yet',
});
