// The spare-process runner against real processes: the tool gets exactly its
// argv and its input, a second run uses the spare the first one left, and
// no value can break out of its shell word.

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  commandLine,
  createPrestartedRunner,
  type PrestartedRunner,
} from './prestarted-command.ts';

let runner: PrestartedRunner | undefined;
afterEach(() => runner?.close());

describe('the prestarted runner', () => {
  it('quotes every word, quotes included, and refuses a newline', () => {
    expect(commandLine(['ip', '-n', "a'b", '-batch', '-'])).toBe(
      `'ip' '-n' 'a'\\''b' '-batch' '-'\n`,
    );
    expect(() => commandLine(['ip', 'a\nb'])).toThrow('newline');
    expect(() => commandLine([])).toThrow('empty');
  });

  it('runs the tool with its argv and stdin, and hands back its output and status', async () => {
    runner = createPrestartedRunner();
    const words = ['$HOME', '`id`', "it's", 'a b', ';exit 3'];
    const echoed = await runner.run(
      ['sh', '-c', 'printf "%s|" "$@"; cat; echo oops >&2; exit 7', 'sh', ...words],
      {
        input: 'line one\nline two\n',
      },
    );
    expect(echoed).toEqual({
      code: 7,
      signal: null,
      stdout: `${words.join('|')}|line one\nline two\n`,
      stderr: 'oops\n',
    });
  });

  it('takes the spare the last run left, and writes input given as a promise once known', async () => {
    runner = createPrestartedRunner();
    await runner.run(['true']);
    // The spare starts a loop turn after a run ends; give it a clear lead.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const ticksPerSecond = 100; // USER_HZ, as /proc/<pid>/stat counts
    const calledAt = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * ticksPerSecond;
    let provide: (text: string) => void = () => {};
    const input = new Promise<string>((resolve) => {
      provide = resolve;
    });
    // $$ is the spare's pid: exec keeps it. Field 22 of its stat is when it started.
    const second = runner.run(['sh', '-c', 'cut -d" " -f22 /proc/$$/stat; cat'], { input });
    provide('late\n');
    const [startedAt, rest] = (await second).stdout.split('\n');
    expect(Number(startedAt)).toBeLessThan(calledAt - 10);
    expect(rest).toBe('late');
  });

  it('runs nothing more when the input promise rejects, and kills a tool that overruns', async () => {
    runner = createPrestartedRunner();
    const rejected = await runner.run(['cat'], { input: Promise.reject(new Error('no ops')) });
    expect(rejected).toMatchObject({ code: 0, stdout: '' });
    const slow = await runner.run(['sleep', '5'], { timeoutMs: 100 });
    expect(slow.signal).toBe('SIGKILL');
  });

  it('fails when the tool does not exist, as a shell says', async () => {
    runner = createPrestartedRunner();
    const missing = await runner.run(['pier-no-such-tool']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('pier-no-such-tool');
  });
});
