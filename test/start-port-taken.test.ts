// `pier start` on a machine where one of its ports is already taken ends with
// a clear message and exit 1, rather than staying half up.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { expect, it } from 'vitest';

it('exits 1 naming the address when a demo backend port is taken', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve, reject) => {
    blocker.once('error', reject).listen(9101, '127.0.0.1', resolve);
  });
  try {
    const child = spawn(
      process.execPath,
      ['bin/pier.ts', 'start', '--admin.address', '127.0.0.1:0'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code] = await once(child, 'exit');
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(stderr).toContain(
      'pier: could not start: listen EADDRINUSE: address already in use 127.0.0.1:9101',
    );
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
});
