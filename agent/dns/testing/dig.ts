// dig (BIND's client) as the tests' independent DNS client: runs it
// asynchronously (the server may live in the same process) and reads its
// output into the rcode, the header flags and each section in zone-file
// notation, the DNS tests' tables' own (`name ttl IN TYPE data`).

import { execFile } from 'node:child_process';

export interface DigResult {
  status: string;
  flags: string[];
  /** `udp: 1232` from the OPT pseudosection, when there is one. */
  ednsUdp?: number;
  answer: string[];
  authority: string[];
  additional: string[];
  /** The question as it came back (case included). */
  question: string;
  raw: string;
}

export function dig(
  server: { address: string; port: number },
  args: readonly string[],
): Promise<DigResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'dig',
      [
        `@${server.address}`,
        '-p',
        String(server.port),
        '+tries=1',
        '+time=2',
        '+nocmd',
        '+nostats',
        ...args,
      ],
      { timeout: 10_000 },
      (error, stdout) => {
        if (error && stdout === '') reject(error);
        else resolve(parseDig(stdout));
      },
    );
  });
}

export function parseDig(raw: string): DigResult {
  const result: DigResult = {
    status: '',
    flags: [],
    answer: [],
    authority: [],
    additional: [],
    question: '',
    raw,
  };
  const status = /status: ([A-Z]+)/.exec(raw);
  if (status) result.status = status[1]!;
  const flags = /;; flags: ([a-z ]+);/.exec(raw);
  if (flags) result.flags = flags[1]!.trim().split(' ');
  const udp = /; EDNS: version: \d+, flags:[a-z ]*; udp: (\d+)/.exec(raw);
  if (udp) result.ednsUdp = Number(udp[1]);
  let section: 'answer' | 'authority' | 'additional' | 'question' | undefined;
  for (const line of raw.split('\n')) {
    if (line.startsWith(';; QUESTION SECTION:')) section = 'question';
    else if (line.startsWith(';; ANSWER SECTION:')) section = 'answer';
    else if (line.startsWith(';; AUTHORITY SECTION:')) section = 'authority';
    else if (line.startsWith(';; ADDITIONAL SECTION:')) section = 'additional';
    else if (line.trim() === '' || line.startsWith(';;')) section = undefined;
    else if (section === 'question')
      result.question = line.replace(/^;/, '').split(/\s+/).filter(Boolean).join(' ');
    else if (section !== undefined)
      result[section].push(line.split(/\s+/).filter(Boolean).join(' '));
  }
  return result;
}
