// The edge gateway (gateway/): where its listeners bind, how many worker
// processes share them, how long a shutdown may drain, the limits every
// listener enforces, and how Gateway API objects and Ingresses are read.
// Ports come from the Gateway listeners themselves, not from here.

import { z } from 'zod';
import { isCIDR, isDns1123Subdomain, isIP } from '../../model/fields.ts';
import { section, setting } from '../setting.ts';

const ms = (max: number) => z.number().int().min(0).max(max);

export const gateway = section(
  'The edge gateway (`pier gateway`, and `pier start`): listeners from Gateway objects, routes to Service endpoints.',
  {
    address: setting(z.string().refine(isIP), {
      default: '127.0.0.1',
      accepts: 'an IP address, e.g. 0.0.0.0 or ::',
      description:
        'The local address every listener binds; the port comes from the Gateway listener. `0.0.0.0` or `::` to serve other hosts.',
    }),
    workers: setting(z.number().int().min(0).max(256), {
      default: 0,
      description:
        'Worker processes sharing the listening ports (SO_REUSEPORT), each with its own Store watch; 0: one per core; 1: serve in the `pier gateway` process itself.',
    }),
    shutdownGraceMs: setting(ms(600_000), {
      default: 8_000,
      description:
        'On SIGTERM (and when a port is removed): how long requests in flight and open WebSockets may take before they are cut.',
    }),
    controllerName: setting(z.string().min(1).max(253), {
      default: 'pier.dev/gateway',
      accepts: 'a controller name, e.g. pier.dev/gateway',
      description:
        "GatewayClasses with this spec.controllerName are Pier's; their Gateways are served.",
    }),
    writeStatus: setting(z.boolean(), {
      default: true,
      description:
        "With kubernetes.enabled: the source's leader writes Gateway API status to the cluster (gateway/README.md, Status).",
    }),
    useClusterIP: setting(z.boolean(), {
      default: false,
      description:
        "Send requests to the Service's ClusterIP (the node's service proxy balances) instead of to its endpoints.",
    }),
    upstreamHttp1Client: setting(z.enum(['pier', 'undici']), {
      default: 'pier',
      description:
        "The HTTP/1.1 pool to endpoints: Pier's own (faster, reuses read buffers) or undici's Pool; both pass one test suite (gateway/upstream/dispatcher.case.ts).",
    }),
    bodySplice: setting(z.boolean(), {
      default: true,
      description:
        'Request bodies of 64 KiB or more from cleartext HTTP/1.1 clients to plain-TCP HTTP/1.1 endpoints are moved by the kernel (splice(2), gateway/native/splice.c) instead of through JavaScript; false: always copied. Without the built addon (`npm run build:native`) they are copied either way.',
    }),
    trustedProxies: setting(z.array(z.string().refine((v) => isCIDR(v) || isIP(v))), {
      default: [],
      accepts: 'a comma-separated list of CIDRs or IPs, e.g. 10.0.0.0/8,fd00::/8',
      description:
        'Peers whose X-Forwarded-For and Forwarded headers are believed (a load balancer in front); empty: none.',
    }),
    accessLog: setting(z.enum(['json', 'off']), {
      default: 'json',
      description:
        'One JSON line per request on stdout (route, Service, endpoint, status, bytes, durations).',
    }),
    syncDelayMs: setting(ms(1000), {
      default: 10,
      description:
        'Changes seen within this window are applied in one sync (routes, listeners, endpoints, certificates).',
    }),
    limits: section('What every listener enforces on clients.', {
      maxHeaderBytes: setting(
        z
          .number()
          .int()
          .min(1024)
          .max(1024 * 1024),
        {
          default: 16 * 1024,
          description:
            'Request line and headers, bytes (HTTP/2: the header list size); over it: 431.',
        },
      ),
      maxHeaders: setting(z.number().int().min(8).max(10_000), {
        default: 100,
        description: 'Header fields per request; over it: 431.',
      }),
      headersTimeoutMs: setting(ms(600_000).min(100), {
        default: 10_000,
        description:
          'The request head (and a TLS handshake) must arrive within this (slowloris); else 408 and close.',
      }),
      requestTimeoutMs: setting(ms(86_400_000), {
        default: 300_000,
        description: 'The whole request, body included, must arrive within this; 0: no limit.',
      }),
      keepAliveTimeoutMs: setting(ms(3_600_000), {
        default: 60_000,
        description:
          'An idle client connection (HTTP/1.1 keep-alive, HTTP/2 session) closes after this.',
      }),
      maxConcurrentStreams: setting(z.number().int().min(1).max(10_000), {
        default: 128,
        description: 'Streams per HTTP/2 client connection.',
      }),
      tunnelIdleTimeoutMs: setting(ms(86_400_000), {
        default: 3_600_000,
        description:
          'An upgraded connection (WebSocket) with no bytes either way for this long is closed, both sides; 0: never.',
      }),
    }),
    ingress: section('networking.k8s.io/v1 Ingresses, served on ports of their own.', {
      enabled: setting(z.boolean(), {
        default: true,
        description: "Serve Ingresses of Pier's classes.",
      }),
      classNames: setting(z.array(z.string().min(1)), {
        default: ['pier'],
        accepts: 'a comma-separated list of IngressClass names, e.g. pier,nginx',
        description: 'spec.ingressClassName values (or the legacy annotation) Pier serves.',
      }),
      httpPort: setting(z.number().int().min(1).max(65535), {
        default: 80,
        description: 'The port Ingress rules are served on over HTTP.',
      }),
      httpsPort: setting(z.number().int().min(1).max(65535), {
        default: 443,
        description: 'The port Ingress TLS hosts are served on.',
      }),
      statusAddress: setting(
        z.string().refine((v) => v === '' || isIP(v) || isDns1123Subdomain(v)),
        {
          default: '',
          accepts: 'an IP address or a DNS name, or empty',
          description:
            "With kubernetes.enabled and gateway.writeStatus: written to the status.loadBalancer of the Ingresses Pier serves (what clients reach it at, like ingress-nginx's --publish-status-address). Empty: left alone.",
        },
      ),
    }),
  },
);
