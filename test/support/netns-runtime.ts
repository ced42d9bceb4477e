// A container runtime's CNI side, as libcni does it, for tests: runs the
// plugins of a conflist in order for ADD (each given the previous one's
// result as prevResult), in reverse for DEL, in order for CHECK (with the
// cached ADD result), each as its own executable found in CNI_PATH, with
// CNI_* in its environment and its config on stdin, inside the node's
// network namespace (where a runtime runs). Results are cached per
// attachment, as libcni caches them, for DEL and CHECK.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NetnsScope } from './netns.ts';

export interface Conflist {
  cniVersion: string;
  name: string;
  plugins: Record<string, unknown>[];
}

export interface PluginRun {
  plugin: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Wall time of the plugin process, as the runtime sees it. */
  ms: number;
}

export interface CniOutcome {
  ok: boolean;
  /** The last plugin's parsed output (a result, an error, or undefined when empty). */
  output: Record<string, unknown> | undefined;
  runs: PluginRun[];
}

export interface Attachment {
  containerId: string;
  netns: string;
  ifname?: string;
  /** CNI_ARGS pairs. */
  args?: Record<string, string>;
  /** runtimeConfig for plugins that declare the capability (portMappings, ...). */
  capabilities?: Record<string, unknown>;
}

export interface CniRuntime {
  add(attachment: Attachment): Promise<CniOutcome>;
  del(attachment: Attachment): Promise<CniOutcome>;
  check(attachment: Attachment): Promise<CniOutcome>;
  status(): Promise<CniOutcome>;
  gc(valid: { containerId: string; ifname: string }[]): Promise<CniOutcome>;
  /** Runs one plugin of the list with a raw environment and stdin (for malformed requests). */
  raw(plugin: string, env: Record<string, string>, stdin: string): Promise<PluginRun>;
}

export interface RuntimeOptions {
  scope: NetnsScope;
  /** The node namespace (short name) the plugins run in. */
  node: string;
  conflist: Conflist;
  /** Directories searched for plugin executables, in order (CNI_PATH). */
  cniPath: string[];
  /** Extra environment for every plugin (e.g. PIER_CNI_COMPILE_CACHE). */
  env?: Record<string, string>;
}

/** Where this repository's pier-cni lives, and the Node.js the tests run on. */
export const PIER_BIN_DIR = join(dirname(new URL(import.meta.url).pathname), '../../bin');
export const NODE_BIN_DIR = dirname(process.execPath);

export function createCniRuntime(options: RuntimeOptions): CniRuntime {
  const { scope, node, conflist } = options;
  const cache = new Map<string, Record<string, unknown>>();
  const key = (a: { containerId: string; ifname?: string }) =>
    `${a.containerId}/${a.ifname ?? 'eth0'}`;

  const find = (type: string): string => {
    for (const dir of options.cniPath) {
      const path = join(dir, type);
      if (existsSync(path)) return path;
    }
    throw new Error(`plugin ${type} not found in ${options.cniPath.join(':')}`);
  };

  const exec = (plugin: string, env: Record<string, string>, stdin: string): Promise<PluginRun> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const child = spawn('ip', ['netns', 'exec', scope.name(node), find(plugin)], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          // A runtime's own environment: PATH (a Node.js 24 first, for pier-cni) and little else.
          PATH: `${NODE_BIN_DIR}:/usr/sbin:/usr/bin:/sbin:/bin`,
          ...options.env,
          ...env,
        },
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', reject);
      child.on('close', (exitCode) =>
        resolve({
          plugin,
          exitCode,
          stdout: Buffer.concat(out).toString(),
          stderr: Buffer.concat(err).toString(),
          ms: performance.now() - started,
        }),
      );
      child.stdin.on('error', () => {});
      child.stdin.end(stdin);
    });

  const pluginConfig = (
    plugin: Record<string, unknown>,
    extra: Record<string, unknown>,
    capabilities: Record<string, unknown> | undefined,
  ) => {
    const config: Record<string, unknown> = {
      cniVersion: conflist.cniVersion,
      name: conflist.name,
      ...plugin,
      ...extra,
    };
    const caps = plugin.capabilities as Record<string, boolean> | undefined;
    if (caps !== undefined && capabilities !== undefined) {
      const runtimeConfig: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(capabilities))
        if (caps[name]) runtimeConfig[name] = value;
      if (Object.keys(runtimeConfig).length > 0) config.runtimeConfig = runtimeConfig;
    }
    return config;
  };

  const envFor = (command: string, a?: Attachment): Record<string, string> => ({
    CNI_COMMAND: command,
    CNI_PATH: options.cniPath.join(':'),
    ...(a === undefined
      ? {}
      : {
          CNI_CONTAINERID: a.containerId,
          CNI_NETNS: a.netns,
          CNI_IFNAME: a.ifname ?? 'eth0',
          CNI_ARGS: Object.entries({ IgnoreUnknown: '1', ...a.args })
            .map(([k, v]) => `${k}=${v}`)
            .join(';'),
        }),
  });

  const parse = (stdout: string): Record<string, unknown> | undefined => {
    if (stdout.trim() === '') return undefined;
    try {
      return JSON.parse(stdout) as Record<string, unknown>;
    } catch {
      return { unparsable: stdout };
    }
  };

  return {
    async add(a) {
      const runs: PluginRun[] = [];
      let prev: Record<string, unknown> | undefined;
      for (const plugin of conflist.plugins) {
        const config = pluginConfig(
          plugin,
          prev === undefined ? {} : { prevResult: prev },
          a.capabilities,
        );
        const run = await exec(plugin.type as string, envFor('ADD', a), JSON.stringify(config));
        runs.push(run);
        const output = parse(run.stdout);
        if (run.exitCode !== 0) return { ok: false, output, runs };
        prev = output;
      }
      if (prev !== undefined) cache.set(key(a), prev);
      return { ok: true, output: prev, runs };
    },
    async del(a) {
      const runs: PluginRun[] = [];
      const prev = cache.get(key(a));
      for (const plugin of [...conflist.plugins].reverse()) {
        const config = pluginConfig(
          plugin,
          prev === undefined ? {} : { prevResult: prev },
          a.capabilities,
        );
        const run = await exec(plugin.type as string, envFor('DEL', a), JSON.stringify(config));
        runs.push(run);
        if (run.exitCode !== 0) return { ok: false, output: parse(run.stdout), runs };
      }
      cache.delete(key(a));
      return { ok: true, output: undefined, runs };
    },
    async check(a) {
      const runs: PluginRun[] = [];
      const prev = cache.get(key(a));
      if (prev === undefined) throw new Error(`no cached ADD result for ${key(a)}`);
      for (const plugin of conflist.plugins) {
        const config = pluginConfig(plugin, { prevResult: prev }, a.capabilities);
        const run = await exec(plugin.type as string, envFor('CHECK', a), JSON.stringify(config));
        runs.push(run);
        if (run.exitCode !== 0) return { ok: false, output: parse(run.stdout), runs };
      }
      return { ok: true, output: undefined, runs };
    },
    async status() {
      const runs: PluginRun[] = [];
      for (const plugin of conflist.plugins) {
        const run = await exec(
          plugin.type as string,
          envFor('STATUS'),
          JSON.stringify(pluginConfig(plugin, {}, undefined)),
        );
        runs.push(run);
        if (run.exitCode !== 0) return { ok: false, output: parse(run.stdout), runs };
      }
      return { ok: true, output: undefined, runs };
    },
    async gc(valid) {
      const runs: PluginRun[] = [];
      const attachments = valid.map((v) => ({ containerID: v.containerId, ifname: v.ifname }));
      for (const plugin of conflist.plugins) {
        const config = pluginConfig(
          plugin,
          { 'cni.dev/valid-attachments': attachments },
          undefined,
        );
        const run = await exec(plugin.type as string, envFor('GC'), JSON.stringify(config));
        runs.push(run);
        if (run.exitCode !== 0) return { ok: false, output: parse(run.stdout), runs };
      }
      return { ok: true, output: undefined, runs };
    },
    raw: exec,
  };
}
