// `npm start` as a newcomer runs it: the real executable, the examples folder,
// a memory Store; checked through the admin server, the demo backends and
// the curl commands it prints, run exactly as printed.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);

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

/** The curl lines `pier start` printed, with the demo backends each comment names. */
function printedCurls(): { command: string; backends: string[] }[] {
  return [...stdout.matchAll(/^ {4}(curl .+?) +# .+ -> (.+)$/gm)].map((m) => ({
    command: m[1]!,
    backends: [...m[2]!.matchAll(/demo\/(echo-[ab]):80/g)].map((b) => b[1]!).sort(),
  }));
}

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

  it('prints curl commands for host routing, path routing and the weighted split', () => {
    const commands = printedCurls().map((c) => c.command);
    expect(commands).toEqual(
      expect.arrayContaining([
        "curl -H 'Host: a.example.com' http://127.0.0.1:8080/",
        "curl -H 'Host: b.example.com' http://127.0.0.1:8080/",
        'curl http://127.0.0.1:8080/a',
        'curl http://127.0.0.1:8080/b',
        'curl http://127.0.0.1:8080/split',
      ]),
    );
  });

  it('answers the printed curl commands, run as printed, from the backends they name', async () => {
    for (const { command, backends } of printedCurls()) {
      const seen = new Set<string>();
      // The split sends 20% to echo-b: 60 tries miss it with probability 0.8^60 (1.5e-6).
      const tries = backends.length > 1 ? 60 : 1;
      for (let i = 0; i < tries; i++) {
        const { stdout } = await exec('/bin/sh', ['-c', `${command} -sS --max-time 5`]);
        seen.add((JSON.parse(stdout) as { server: string }).server);
      }
      expect([...seen].sort(), command).toEqual(backends);
    }
  });

  it('exports gateway metrics per route and Service', async () => {
    const text = await (await fetch(`${adminUrl}/metrics`)).text();
    expect(text).toMatch(
      /pier_gateway_requests_total\{route="httproute\/demo\/by-path\/rule\/0",service="demo\/echo-a:80",code="200"\} [1-9]/,
    );
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
