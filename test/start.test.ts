// `npm start` as a newcomer runs it: the real executable, the examples folder,
// a memory Store; checked through the admin server and the demo backends.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let child: ChildProcess;
let stdout = '';
let adminUrl = '';

beforeAll(async () => {
  child = spawn(process.execPath, ['bin/pier.ts', 'start', '--admin.address', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.setEncoding('utf8');
  const deadline = Date.now() + 20_000;
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      const match = /admin: (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (match && /Stop with Ctrl-C/.test(stdout)) {
        adminUrl = match[1]!;
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`pier start exited with ${code}: ${stdout}`)));
    setTimeout(
      () => reject(new Error(`pier start did not come up: ${stdout}`)),
      deadline - Date.now(),
    );
  });
});

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

describe('pier start', () => {
  it('is ready and serves the examples from the Store', async () => {
    expect((await fetch(`${adminUrl}/readyz`)).status).toBe(200);
    const state = (await (await fetch(`${adminUrl}/debug/state`)).json()) as {
      store: string;
      objects: Record<string, { metadata: { name: string } }[]>;
    };
    expect(state.store).toBe('memory');
    expect(state.objects.Service!.map((s) => s.metadata.name).sort()).toEqual(['echo-a', 'echo-b']);
    expect(state.objects['gateway.networking.k8s.io/HTTPRoute']!.length).toBe(3);
  });

  it('runs the demo echo backends the examples point at', async () => {
    const answer = (await (await fetch('http://127.0.0.1:9101/hello')).json()) as {
      server: string;
      path: string;
    };
    expect(answer).toMatchObject({ server: 'echo-a', path: '/hello' });
  });

  it('exports metrics and exits 0 on SIGTERM', async () => {
    expect(await (await fetch(`${adminUrl}/metrics`)).text()).toContain(
      'process_cpu_user_seconds_total',
    );
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});
