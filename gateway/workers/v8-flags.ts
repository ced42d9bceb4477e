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
// run a one-process gateway as `node --external-memory-accounted-in-global-limit
// bin/pier.ts gateway` (the benchmark does, load/gateway/peers/pier.ts).

export const GATEWAY_V8_FLAGS: readonly string[] = ['--external-memory-accounted-in-global-limit'];

/** `execArgv` with the gateway's V8 flags added where missing. */
export function withGatewayV8Flags(execArgv: readonly string[]): string[] {
  return [...execArgv, ...GATEWAY_V8_FLAGS.filter((flag) => !execArgv.includes(flag))];
}
