// V8 flags for a process that proxies bodies. Every socket read on the
// client side of a request body is a fresh ArrayBuffer (Node's HTTP server
// allocates it); V8 counts that memory as external and by default starts a
// full mark-compact each time some tens of MiB more of it were allocated,
// though the buffers die young and scavenges free them: at a few hundred
// MiB/s of uploads, a full GC about every 100 ms.
// `--external-memory-accounted-in-global-limit` makes V8 weigh external
// memory within its global heap limit, which grows with the heap like the
// rest. Measured with `pier gateway` and wrk uploading 1 MiB bodies: 33
// mark-compacts in 4 s became 4, user CPU per request 815-1134 us became
// 422-742 us (gateway/README.md, Performance). (Response bodies do not need
// it: the upstream pool reads into reused buffers, upstream/http1/.) The
// price is garbage that waits longer: a 2 GiB upload through a gateway
// process peaked at 248 MiB RSS with it, 181 MiB without (start: 103 MiB;
// test/gateway-forward-stream.test.ts runs its gateway with these flags
// and bounds the growth).
//
// It must be on node's command line: set at run time (v8.setFlagsFromString)
// it took only partly (24 mark-compacts instead of 33), and NODE_OPTIONS
// does not accept it. The supervisor passes it to the workers it forks;
// run a one-process gateway as `node <these flags> bin/pier.ts gateway` (the
// benchmark does, load/gateway/peers/pier.ts).

// `--initial-old-space-size=128` (MiB) lets the old generation, and with
// the flag above the external memory weighed with it, grow that far before
// the first full GC. Body buffers die young, so scavenges free them long
// before that; without it a gateway of ~25 MiB live heap still hit its
// global limit every ~130 ms under 1 MiB uploads. Measured with wrk
// uploading 1 MiB bodies through one process: 36-58 mark-compacts in 5 s
// became 0, and requests/s rose from 770-960 to 1,050-1,310 (interleaved
// runs). RSS under that load stayed about 300 MiB either way; the 2 GiB
// upload of the stream test peaked at 196 MiB. It is a start size, not a
// cap: V8 still collects and grows past it as usual.

export const GATEWAY_V8_FLAGS: readonly string[] = [
  '--external-memory-accounted-in-global-limit',
  '--initial-old-space-size=128',
];

/** `--initial-old-space-size=128` -> `--initial-old-space-size`. */
function flagName(flag: string): string {
  const eq = flag.indexOf('=');
  return eq < 0 ? flag : flag.slice(0, eq);
}

/** `execArgv` with the gateway's V8 flags added where missing; a value the operator gave wins. */
export function withGatewayV8Flags(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map(flagName));
  return [...execArgv, ...GATEWAY_V8_FLAGS.filter((flag) => !given.has(flagName(flag)))];
}
