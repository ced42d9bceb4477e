import { describe, expect, it } from 'vitest';
import type { ExternalAuthConfig } from '../filters.ts';
import { authRequestHeaders, copiedHeaders } from './external-auth.ts';

const config = (allowedRequestHeaders: string[], allowedResponseHeaders: string[]) =>
  ({
    backend: { namespace: 'auth', name: 'authz', port: 80 },
    pathPrefix: '/check',
    allowedRequestHeaders,
    allowedResponseHeaders,
  }) satisfies ExternalAuthConfig;

describe('what the auth backend is sent', () => {
  const request = {
    method: 'GET',
    target: '/x',
    host: 'app.example.com',
    rawHeaders: [
      'Host',
      'app.example.com',
      'Authorization',
      'Bearer t',
      'Cookie',
      'session=1',
      'X-Request-Id',
      'r1',
      ':path',
      '/x',
    ],
  };
  it.each([
    { allowed: [], sent: ['host', 'app.example.com', 'authorization', 'Bearer t'] },
    {
      allowed: ['x-request-id'],
      sent: ['host', 'app.example.com', 'authorization', 'Bearer t', 'x-request-id', 'r1'],
    },
    {
      allowed: ['cookie', 'x-absent'],
      sent: ['host', 'app.example.com', 'authorization', 'Bearer t', 'cookie', 'session=1'],
    },
  ])('allowedHeaders $allowed: Host, Authorization and those', ({ allowed, sent }) => {
    expect(authRequestHeaders(config(allowed, []), request)).toEqual(sent);
  });
});

describe("what of a 200's headers reaches the backend", () => {
  const answer = {
    'x-user': 'alice',
    'x-groups': ['a', 'b'],
    host: 'authz',
    'content-length': '0',
    connection: 'keep-alive',
    'set-cookie': 'x=1',
  };
  it.each([
    {
      allowed: [],
      copied: ['x-user', 'alice', 'x-groups', 'a', 'x-groups', 'b', 'set-cookie', 'x=1'],
    },
    { allowed: ['x-user'], copied: ['x-user', 'alice'] },
    { allowed: ['x-user', 'content-length', 'host'], copied: ['x-user', 'alice'] },
  ])('allowedResponseHeaders $allowed', ({ allowed, copied }) => {
    expect(copiedHeaders(config([], allowed), answer)).toEqual(copied);
  });
});
