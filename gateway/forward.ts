// Forwarding: what the gateway's request handler calls once the router has
// chosen a Service port for a request. The API in one place (the parts live
// in gateway/forward/, gateway/upstream/ and gateway/balancer/; README.md,
// section Forwarding, shows how they fit):
//
//   per Service port        createUpstream({ name, protocol, balancer })  (gateway/upstream.ts)
//   per EndpointSlice sync  upstream.setEndpoints(endpointsFromSlices(...).endpoints)
//   per route rule          compileForwardPolicy({ requestHeaders, responseHeaders, retry,
//                                                  timeouts, affinity, trustedProxies, observer })
//   per request             forward(req, res, { upstream, policy, path, host })
//   per Upgrade             forwardUpgrade(req, socket, head, plan)
//   gateway's own answers   sendGatewayError(res, 'NO_ROUTE', grpc)     (gateway/errors.ts)
//
// forward() and forwardUpgrade() never throw for a request's sake and never
// leave a request unanswered: every failure is a response from the error
// table (or, once a response has started, a cut connection).

export {
  type AffinityPolicy,
  affinityFromSessionPersistence,
  DEFAULT_SESSION_COOKIE,
  DEFAULT_SESSION_HEADER,
  type SessionPersistenceLike,
} from './forward/affinity.ts';
export { forward, type InboundRequest, type InboundResponse } from './forward/forward.ts';
export type { HeaderEdits, HeaderValue } from './forward/header-edits.ts';
export {
  compileForwardPolicy,
  defaultForwardPolicy,
  type ForwardObserver,
  type ForwardPlan,
  type ForwardPolicy,
  type ForwardPolicySpec,
  type ForwardResult,
  type Timeouts,
} from './forward/plan.ts';
export type { RetryPolicy } from './forward/retry.ts';
export { traceIdOf } from './forward/traceparent.ts';
export { createTrustedProxies, type TrustedProxies } from './forward/trusted-proxies.ts';
export { forwardUpgrade } from './forward/upgrade.ts';
