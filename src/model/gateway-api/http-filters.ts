// HTTPRoute (and GRPCRoute) filters: a `type` and the one field that type
// names, as the CRD's CEL rules require, plus the rules on a filter list
// (RequestRedirect and URLRewrite exclude each other; most types at most once).

import { z } from 'zod';
import { intRange, list, oneOf, oneOfNumbers, portNumber, text } from '../fields.ts';
import {
  backendObjectReferenceSchema,
  headerName,
  localObjectReferenceSchema,
  preciseHostname,
} from './shared.ts';

const httpHeader = z.looseObject({ name: headerName(), value: text(1, 4096) });

function uniqueNames(
  items: readonly { name: string }[] | undefined,
  ctx: z.RefinementCtx,
  field: string,
) {
  const seen = new Set<string>();
  items?.forEach((h, i) => {
    if (seen.has(h.name))
      ctx.addIssue({
        code: 'custom',
        path: [field, i, 'name'],
        message: `duplicate header "${h.name}"`,
      });
    seen.add(h.name);
  });
}

export const headerFilterSchema = z
  .looseObject({
    set: list(httpHeader, 0, 16).optional(),
    add: list(httpHeader, 0, 16).optional(),
    remove: list(z.string(), 0, 16).optional(),
  })
  .superRefine((f, ctx) => {
    uniqueNames(f.set, ctx, 'set');
    uniqueNames(f.add, ctx, 'add');
    const seen = new Set<string>();
    f.remove?.forEach((name, i) => {
      if (seen.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['remove', i],
          message: `duplicate header "${name}"`,
        });
      seen.add(name);
    });
  });

export const pathModifierSchema = z
  .looseObject({
    type: oneOf(['ReplaceFullPath', 'ReplacePrefixMatch']),
    replaceFullPath: text(0, 1024).optional(),
    replacePrefixMatch: text(0, 1024).optional(),
  })
  .superRefine((m, ctx) => {
    const issue = (path: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message });
    if (m.type === 'ReplaceFullPath' && m.replaceFullPath === undefined) {
      issue(
        'replaceFullPath',
        "Required value: replaceFullPath must be specified when type is set to 'ReplaceFullPath'",
      );
    }
    if (m.replaceFullPath !== undefined && m.type !== 'ReplaceFullPath') {
      issue('type', "type must be 'ReplaceFullPath' when replaceFullPath is set");
    }
    if (m.type === 'ReplacePrefixMatch' && m.replacePrefixMatch === undefined) {
      issue(
        'replacePrefixMatch',
        "Required value: replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'",
      );
    }
    if (m.replacePrefixMatch !== undefined && m.type !== 'ReplacePrefixMatch') {
      issue('type', "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set");
    }
  });

export const REDIRECT_STATUS_CODES = [301, 302, 303, 307, 308] as const;

export const requestRedirectSchema = z.looseObject({
  scheme: oneOf(['http', 'https']).optional(),
  hostname: preciseHostname().optional(),
  path: pathModifierSchema.optional(),
  port: portNumber().optional(),
  statusCode: oneOfNumbers(REDIRECT_STATUS_CODES).default(302),
});

export const urlRewriteSchema = z.looseObject({
  hostname: preciseHostname().optional(),
  path: pathModifierSchema.optional(),
});

export const requestMirrorSchema = z
  .looseObject({
    backendRef: backendObjectReferenceSchema,
    percent: intRange(0, 100).optional(),
    fraction: z
      .looseObject({
        numerator: intRange(0, 2147483647),
        denominator: intRange(1, 2147483647).default(100),
      })
      .superRefine((f, ctx) => {
        if (f.numerator > f.denominator) {
          ctx.addIssue({
            code: 'custom',
            path: ['numerator'],
            message: 'numerator must be less than or equal to denominator',
          });
        }
      })
      .optional(),
  })
  .superRefine((m, ctx) => {
    if (m.percent !== undefined && m.fraction !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter',
      });
    }
  });

const METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
] as const;

export const corsSchema = z.looseObject({
  allowOrigins: list(text(1, 253), 0, 64).optional(),
  allowCredentials: z.boolean().optional(),
  allowMethods: list(oneOf([...METHODS, '*']), 0, 9).optional(),
  allowHeaders: list(headerName(), 0, 64).optional(),
  exposeHeaders: list(headerName(), 0, 64).optional(),
  maxAge: intRange(1, 2147483647).default(5),
});

/** Each filter type and the field that carries its configuration. */
const FILTER_FIELDS = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  CORS: 'cors',
  ExternalAuth: 'externalAuth',
  ExtensionRef: 'extensionRef',
} as const;

type FilterType = keyof typeof FILTER_FIELDS;

/** Checks that exactly the field named by `type` is set. */
function checkFilterField(
  filter: Record<string, unknown> & { type: string },
  ctx: z.RefinementCtx,
): void {
  for (const [type, field] of Object.entries(FILTER_FIELDS)) {
    const present = filter[field] !== undefined;
    if (present && filter.type !== type) {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `filter.${field} must be nil if the filter.type is not ${type}`,
      });
    } else if (!present && filter.type === type) {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `Required value: filter.${field} must be specified for ${type} filter.type`,
      });
    }
  }
}

/** The filter types that may appear at most once in a list. */
const UNREPEATABLE: readonly FilterType[] = [
  'CORS',
  'RequestHeaderModifier',
  'ResponseHeaderModifier',
  'RequestRedirect',
  'URLRewrite',
];

export function checkFilterList(
  filters: readonly { type: string }[] | undefined,
  ctx: z.RefinementCtx,
): void {
  if (filters === undefined) return;
  const types = filters.map((f) => f.type);
  if (types.includes('RequestRedirect') && types.includes('URLRewrite')) {
    ctx.addIssue({
      code: 'custom',
      message:
        'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both',
    });
  }
  for (const type of UNREPEATABLE) {
    const at = types.indexOf(type, types.indexOf(type) + 1);
    if (types.indexOf(type) !== -1 && at !== -1) {
      ctx.addIssue({
        code: 'custom',
        path: [at, 'type'],
        message: `${type} filter cannot be repeated`,
      });
    }
  }
}

export const HTTP_FILTER_TYPES = [
  'RequestHeaderModifier',
  'ResponseHeaderModifier',
  'RequestMirror',
  'RequestRedirect',
  'URLRewrite',
  'ExtensionRef',
  'CORS',
  'ExternalAuth',
] as const;

export const httpRouteFilterSchema = z
  .looseObject({
    type: oneOf(HTTP_FILTER_TYPES),
    requestHeaderModifier: headerFilterSchema.optional(),
    responseHeaderModifier: headerFilterSchema.optional(),
    requestMirror: requestMirrorSchema.optional(),
    requestRedirect: requestRedirectSchema.optional(),
    urlRewrite: urlRewriteSchema.optional(),
    cors: corsSchema.optional(),
    /** Experimental (ExternalAuth, GEP-1494): passed through as written. */
    externalAuth: z.looseObject({}).optional(),
    extensionRef: localObjectReferenceSchema.optional(),
  })
  .superRefine(checkFilterField);

export const httpRouteFilters = () =>
  list(httpRouteFilterSchema, 0, 16).superRefine(checkFilterList);

export type HTTPRouteFilter = z.output<typeof httpRouteFilterSchema>;
export type HTTPRouteFilterType = (typeof HTTP_FILTER_TYPES)[number];
export type HTTPHeaderFilter = z.output<typeof headerFilterSchema>;
export type HTTPPathModifier = z.output<typeof pathModifierSchema>;
export type HTTPRequestRedirectFilter = z.output<typeof requestRedirectSchema>;
export type HTTPURLRewriteFilter = z.output<typeof urlRewriteSchema>;
export type HTTPRequestMirrorFilter = z.output<typeof requestMirrorSchema>;
export type HTTPCORSFilter = z.output<typeof corsSchema>;

export const GRPC_FILTER_TYPES = [
  'ResponseHeaderModifier',
  'RequestHeaderModifier',
  'RequestMirror',
  'ExtensionRef',
] as const;

export const grpcRouteFilterSchema = z
  .looseObject({
    type: oneOf(GRPC_FILTER_TYPES),
    requestHeaderModifier: headerFilterSchema.optional(),
    responseHeaderModifier: headerFilterSchema.optional(),
    requestMirror: requestMirrorSchema.optional(),
    extensionRef: localObjectReferenceSchema.optional(),
  })
  .superRefine(checkFilterField);

export const grpcRouteFilters = () =>
  list(grpcRouteFilterSchema, 0, 16).superRefine(checkFilterList);

export type GRPCRouteFilter = z.output<typeof grpcRouteFilterSchema>;
