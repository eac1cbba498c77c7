import { describe, expect, it } from 'vitest';
import { clientAddress, isSameOrigin } from '../../../src/applications/address.ts';

describe('clientAddress', () => {
  it('uses the socket address unless proxies are trusted', () => {
    expect(clientAddress('203.0.113.9', '127.0.0.1', 0)).toBe('127.0.0.1');
    expect(clientAddress(null, '127.0.0.1', 1)).toBe('127.0.0.1');
  });
  it('takes the entry the trusted proxies wrote, never one the client could forge', () => {
    expect(clientAddress('1.1.1.1, 203.0.113.9', '10.0.0.1', 1)).toBe('203.0.113.9');
    expect(clientAddress('1.1.1.1, 203.0.113.9, 10.0.0.2', '10.0.0.1', 2)).toBe('203.0.113.9');
    expect(clientAddress('203.0.113.9', '10.0.0.1', 3)).toBe('203.0.113.9');
  });
});

describe('isSameOrigin', () => {
  const url = new URL('http://127.0.0.1:4321/api/applications');
  it('accepts our own origin, as served or as published', () => {
    expect(isSameOrigin('http://127.0.0.1:4321', null, url, 'https://help.example.org')).toBe(true);
    expect(isSameOrigin('https://help.example.org', null, url, 'https://help.example.org')).toBe(true);
  });
  it('refuses a missing or foreign origin', () => {
    expect(isSameOrigin(null, 'same-origin', url, 'https://help.example.org')).toBe(false);
    expect(isSameOrigin('https://evil.example', 'cross-site', url, 'https://help.example.org')).toBe(false);
  });
  it('accepts `Origin: null` only when the browser says the request is same-origin', () => {
    expect(isSameOrigin('null', 'same-origin', url, 'https://help.example.org')).toBe(true);
    expect(isSameOrigin('null', 'cross-site', url, 'https://help.example.org')).toBe(false);
    expect(isSameOrigin('null', null, url, 'https://help.example.org')).toBe(false);
  });
});
