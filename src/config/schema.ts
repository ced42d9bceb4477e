// The one schema of all Pier settings: an ordered list of sections, each in
// its own file under sections/ (convention 2: wiring as data, no import side
// effects). To add a section (gateway, agent, dns): write
// sections/<name>.ts with section() and setting(), then add it here. Its
// environment variables and flags follow from the names; see README.md.

import { z } from 'zod';
import { admin } from './sections/admin.ts';
import { cluster } from './sections/cluster.ts';
import { dns } from './sections/dns.ts';
import { gateway } from './sections/gateway.ts';
import { kubernetes } from './sections/kubernetes.ts';
import { log } from './sections/log.ts';
import { manifests } from './sections/manifests.ts';
import { serviceProxy } from './sections/service-proxy.ts';
import { store } from './sections/store.ts';

export const sections = {
  log,
  admin,
  store,
  manifests,
  cluster,
  gateway,
  dns,
  serviceProxy,
  kubernetes,
} as const;

export const configSchema = z.strictObject(sections);

/** The effective settings every component receives. */
export type PierConfig = z.output<typeof configSchema>;

/**
 * Environment variables with the PIER_ prefix that are not settings. Any
 * other PIER_ variable that resembles a setting is reported as a typo.
 */
export const nonSettingEnv: readonly string[] = ['PIER_CONFIG'];
