// gateway.networking.k8s.io GRPCRoute (v1): routes gRPC calls by service and
// method (and headers).
//
// Defaults applied (the CRD's): method and header match type Exact;
// parentRef/backendRef defaults as for HTTPRoute. A rule without matches
// matches every call (the CRD has no default match for GRPCRoute).

import { z } from 'zod';
import { list, oneOf, text, uniqueBy } from '../fields.ts';
import { kubeObject } from '../meta.ts';
import { grpcRouteFilters } from './http-filters.ts';
import {
  backendRefSchema,
  checkRuleNames,
  headerName,
  hostnames,
  parentRefs,
  routeStatusSchema,
  sectionName,
  sessionPersistenceSchema,
} from './shared.ts';

const GRPC_SERVICE = /^(?:\.?[a-zA-Z_][a-zA-Z_0-9]*)(\.[a-zA-Z_][a-zA-Z_0-9]*)*$/;
const GRPC_METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;

export const grpcMethodMatchSchema = z
  .looseObject({
    type: oneOf(['Exact', 'RegularExpression']).default('Exact'),
    service: text(0, 1024).optional(),
    method: text(0, 1024).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.service === undefined && m.method === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'One or both of service or method must be specified',
      });
    }
    if (m.type !== 'Exact') return;
    if (m.service !== undefined && !GRPC_SERVICE.test(m.service)) {
      ctx.addIssue({
        code: 'custom',
        path: ['service'],
        message: 'must be a valid fully qualified gRPC service name, e.g. foo.bar.Greeter',
      });
    }
    if (m.method !== undefined && !GRPC_METHOD.test(m.method)) {
      ctx.addIssue({
        code: 'custom',
        path: ['method'],
        message: 'must be a valid gRPC method name, e.g. SayHello',
      });
    }
  });

export const grpcHeaderMatchSchema = z.looseObject({
  type: oneOf(['Exact', 'RegularExpression']).default('Exact'),
  name: headerName(),
  value: text(1, 4096),
});

export const grpcRouteMatchSchema = z
  .looseObject({
    method: grpcMethodMatchSchema.optional(),
    headers: list(grpcHeaderMatchSchema, 0, 16).optional(),
  })
  .superRefine((m, ctx) => {
    uniqueBy(
      m.headers,
      (h) => h.name,
      ctx,
      ['headers'],
      (n) => `duplicate header match "${n}"`,
    );
  });

export const grpcBackendRefSchema = backendRefSchema({ filters: grpcRouteFilters().optional() });

export const grpcRouteRuleSchema = z.looseObject({
  name: sectionName().optional(),
  matches: list(grpcRouteMatchSchema, 0, 64).optional(),
  filters: grpcRouteFilters().optional(),
  backendRefs: list(grpcBackendRefSchema, 0, 16).optional(),
  sessionPersistence: sessionPersistenceSchema.optional(),
});

export const grpcRouteSchema = kubeObject('GRPCRoute', 'dns1123-subdomain', {
  spec: z
    .looseObject({
      parentRefs: parentRefs().optional(),
      hostnames: hostnames().optional(),
      rules: list(grpcRouteRuleSchema, 0, 16).optional(),
    })
    .superRefine((spec, ctx) => {
      checkRuleNames(spec.rules, ctx);
      const total = (spec.rules ?? []).reduce((n, r) => n + (r.matches?.length ?? 0), 0);
      if (total > 128) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules'],
          message: `the total number of matches across all rules must be at most 128 (found ${total})`,
        });
      }
    })
    .prefault({}),
  status: routeStatusSchema.optional(),
});

export type GRPCRoute = z.output<typeof grpcRouteSchema>;
export type GRPCRouteRule = z.output<typeof grpcRouteRuleSchema>;
export type GRPCRouteMatch = z.output<typeof grpcRouteMatchSchema>;
export type GRPCMethodMatch = z.output<typeof grpcMethodMatchSchema>;
export type GRPCHeaderMatch = z.output<typeof grpcHeaderMatchSchema>;
export type GRPCBackendRef = z.output<typeof grpcBackendRefSchema>;
