// Writes objects into a Store from inside a network namespace, for tests
// whose Redis is only reachable there (the namespace cluster's underlay):
//
//   ip netns exec <ns> node store-writer.ts redis://192.168.77.254:6379 <cluster>
//
// One JSON command a line on stdin, one answer a line on stdout:
//   {"id":1,"op":"apply","object":{...}}            -> {"id":1,"ok":true}
//   {"id":2,"op":"delete","ref":{"kind":...,"namespace":...,"name":...}}

import { createInterface } from 'node:readline';
import { createStore } from '../../../src/store/create-store.ts';

const [url = '', cluster = 'default'] = process.argv.slice(2);
const store = createStore(url, { cluster });
const reply = (id: number, body: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ id, ...body })}\n`);

createInterface({ input: process.stdin }).on('line', async (line) => {
  let command: { id: number; op: string; object?: unknown; ref?: unknown };
  try {
    command = JSON.parse(line);
  } catch {
    return;
  }
  try {
    if (command.op === 'apply') await store.apply(command.object as never);
    else if (command.op === 'delete') await store.delete(command.ref as never);
    else throw new Error(`unknown op ${command.op}`);
    reply(command.id, { ok: true });
  } catch (error) {
    reply(command.id, { error: (error as Error).message });
  }
});
process.stdin.on('end', () => {
  void store.close().then(() => process.exit(0));
});
reply(0, { ready: true });
