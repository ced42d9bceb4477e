// The load tool of the CNI latency rows: starts N pods and then stops them
// through one CNI plugin, exactly as a runtime does (the plugin executable
// spawned inside the node's namespace with CNI_* set and its config on
// stdin), one after the other, and prints the latencies as JSON:
//
//   node load/cni/add-del.ts --node <netns> --plugin <path> --conf <json> --pods 50 [--cni-path dirs]
//   -> {"pods":50,"addMs":[...],"delMs":[...],"failed":0,"firstError":""}
//
// Each time is the plugin process's wall time as the runtime sees it, `ip
// netns exec` included (the same for every plugin). The pods' namespaces are
// made before and removed after the timed part, and also when this tool
// fails (test/support/netns.ts).

import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { createNetnsScope } from '../../test/support/netns.ts';

interface Options {
  node: string;
  plugin: string;
  conf: string;
  pods: number;
  cniPath: string;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      node: { type: 'string' },
      plugin: { type: 'string' },
      conf: { type: 'string' },
      pods: { type: 'string', default: '50' },
      'cni-path': { type: 'string', default: '/usr/lib/cni' },
    },
  });
  if (values.node === undefined || values.plugin === undefined || values.conf === undefined) {
    throw new Error(
      'usage: add-del.ts --node <netns> --plugin <path> --conf <json> [--pods N] [--cni-path dirs]',
    );
  }
  const pods = Number(values.pods);
  if (!Number.isInteger(pods) || pods < 1 || pods > 250) throw new Error('--pods must be 1-250');
  return {
    node: values.node,
    plugin: values.plugin,
    conf: values.conf,
    pods,
    cniPath: values['cni-path'],
  };
}

function runPlugin(
  options: Options,
  env: Record<string, string>,
): Promise<{ ms: number; code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('ip', ['netns', 'exec', options.node, options.plugin], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        PATH: `${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`,
        CNI_PATH: options.cniPath,
        ...(process.env.PIER_CNI_COMPILE_CACHE === undefined
          ? {}
          : { PIER_CNI_COMPILE_CACHE: process.env.PIER_CNI_COMPILE_CACHE }),
        ...env,
      },
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => out.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ ms: performance.now() - started, code, out: Buffer.concat(out).toString() }),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(options.conf);
  });
}

async function main(): Promise<void> {
  const options = readOptions();
  const scope = createNetnsScope('ld');
  const addMs: number[] = [];
  const delMs: number[] = [];
  let failed = 0;
  let firstError = '';
  try {
    const pods = Array.from({ length: options.pods }, (_, i) => `p${i}`);
    for (const pod of pods) await scope.create(pod);
    const envOf = (command: string, pod: string) => ({
      CNI_COMMAND: command,
      CNI_CONTAINERID: `bench-${process.pid}-${pod}`,
      CNI_NETNS: scope.path(pod),
      CNI_IFNAME: 'eth0',
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=${pod}`,
    });
    for (const pod of pods) {
      const run = await runPlugin(options, envOf('ADD', pod));
      if (run.code === 0) addMs.push(run.ms);
      else {
        failed++;
        firstError ||= run.out.trim();
      }
    }
    for (const pod of pods) {
      const run = await runPlugin(options, envOf('DEL', pod));
      if (run.code === 0) delMs.push(run.ms);
      else {
        failed++;
        firstError ||= run.out.trim();
      }
    }
  } finally {
    await scope.cleanup();
  }
  process.stdout.write(
    `${JSON.stringify({ pods: options.pods, addMs, delMs, failed, firstError })}\n`,
  );
}

await main();
