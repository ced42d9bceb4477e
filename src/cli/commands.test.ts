import { describe, expect, it } from 'vitest';
import { commands } from './commands.ts';

describe('the command table', () => {
  it('lists the commands in help order', () => {
    expect(commands.map((c) => c.name)).toEqual([
      'start',
      'gateway',
      'agent',
      'dns',
      'cni',
      'version',
      'config',
    ]);
  });

  it.each(commands.map((c) => [c.name, c] as const))(
    '%s: its module is the command the table names',
    async (_, entry) => {
      const command = await entry.load();
      expect(command.name).toBe(entry.name);
      expect(command.summary).toBe(entry.summary);
      expect(command.usage).toMatch(new RegExp(`^pier ${entry.name}\\b`));
      expect(typeof command.run).toBe('function');
      for (const option of command.options) {
        expect(option.name).toMatch(/^[a-z][a-z0-9-]*$/);
        expect(option.name).not.toBe('help');
        expect(option.name).not.toBe('config');
      }
    },
  );
});
