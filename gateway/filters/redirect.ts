// RequestRedirect: answers with a 30x and a Location built from the request
// as received, per HTTPRequestRedirectFilter:
// - scheme: the filter's, else the request's;
// - hostname: the filter's, else the request's Host without its port;
// - port: the filter's; else 80/443 when the filter sets a scheme; else the
//   listener's port. Left out of Location when it is the scheme's default;
// - path: modified by the filter's path, else the request's; query kept.

import type { FilterStep, RedirectConfig } from '../filters.ts';
import { hostOf } from '../router/hostname.ts';
import type { RequestView } from '../router.ts';
import { modifyPath } from './path-modifier.ts';

const DEFAULT_PORT = { http: 80, https: 443 } as const;

export function redirectLocation(
  config: RedirectConfig,
  request: RequestView,
  listenerPort: number,
  prefix: string | undefined,
): string {
  const scheme = config.scheme ?? request.scheme;
  const hostname = config.hostname ?? hostOf(request.host);
  const port =
    config.port ?? (config.scheme !== undefined ? DEFAULT_PORT[config.scheme] : listenerPort);
  const authority = port === DEFAULT_PORT[scheme] ? hostname : `${hostname}:${port}`;
  const path =
    config.path === undefined ? request.path : modifyPath(request.path, config.path, prefix);
  const query = request.query === '' ? '' : `?${request.query}`;
  return `${scheme}://${authority}${path}${query}`;
}

export const redirectStep: FilterStep<'requestRedirect'> = (config, request, decision, context) => {
  decision.action = 'redirect';
  decision.status = config.statusCode;
  decision.location = redirectLocation(config, request, context.listenerPort, context.prefix);
  return true;
};
