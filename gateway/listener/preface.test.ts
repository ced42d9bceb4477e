import { describe, expect, it } from 'vitest';
import { H2_PREFACE, sniffProtocol } from './preface.ts';

describe('sniffProtocol', () => {
  it.each([
    ['the whole preface', H2_PREFACE.toString('latin1'), 'h2'],
    ['the preface and a SETTINGS frame', `${H2_PREFACE.toString('latin1')}\x00\x00\x00\x04`, 'h2'],
    ['a prefix of the preface', 'PRI * HTTP/2', 'more'],
    ['one byte of it', 'P', 'more'],
    ['an HTTP/1.1 request', 'GET / HTTP/1.1\r\n', 'http1'],
    ['POST (also starts with P)', 'POST / HTTP/1.1\r\n', 'http1'],
    ['PRI as an HTTP/1 method', 'PRI / HTTP/1.1\r\n', 'http1'],
    ['garbage', '\x16\x03\x01', 'http1'],
  ])('%s -> %s', (_name, text, expected) => {
    expect(sniffProtocol(Buffer.from(text, 'latin1'))).toBe(expected);
  });
});
