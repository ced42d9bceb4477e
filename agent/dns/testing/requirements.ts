// What the DNS integration tests need (dig, root, ip, getent), checked up
// front: under CI=true a missing requirement fails a test that names it;
// elsewhere the tests are skipped with a visible message, never silently.

import { spawnSync } from 'node:child_process';

const packages: Record<string, string> = {
  dig: 'bind9-dnsutils',
  ip: 'iproute2',
  getent: 'libc-bin',
  dnsperf: 'dnsperf',
};

/** Why these tools cannot be used here (`dig (Debian: apt-get install bind9-dnsutils)`), or undefined. */
export function toolsMissing(tools: readonly string[], needRoot = false): string | undefined {
  const missing: string[] = [];
  if (needRoot && process.getuid?.() !== 0)
    missing.push('root (network namespaces need CAP_NET_ADMIN)');
  for (const tool of tools) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      missing.push(`${tool} (Debian: apt-get install ${packages[tool] ?? tool})`);
    }
  }
  return missing.length === 0 ? undefined : `missing: ${missing.join(', ')}`;
}

export { describeWith } from '../../../src/testing/describe-with.ts';
