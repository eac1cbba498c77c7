import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../../../src/intake/server/http/address.ts';
import { isAllowedOrigin } from '../../../../src/intake/server/origin.ts';

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

describe('isAllowedOrigin', () => {
  const allowed = ['https://help.example.org'];
  it('accepts the configured origin only', () => {
    expect(isAllowedOrigin('https://help.example.org', null, 'help.example.org', allowed)).toBe(true);
    expect(isAllowedOrigin('http://help.example.org', null, 'help.example.org', allowed)).toBe(false);
  });
  it('refuses a missing or foreign origin', () => {
    expect(isAllowedOrigin(null, 'same-origin', 'help.example.org', allowed)).toBe(false);
    expect(isAllowedOrigin('https://evil.example', 'cross-site', 'help.example.org', allowed)).toBe(false);
  });
  it('refuses a page that names itself in both Origin and Host (DNS rebinding)', () => {
    expect(isAllowedOrigin('http://evil.example', 'same-origin', 'evil.example', allowed)).toBe(false);
    expect(isAllowedOrigin('http://127.0.0.1:4321', 'same-origin', '127.0.0.1:4321', allowed)).toBe(false);
  });
  it('accepts `Origin: null` only when the browser says same-origin and the Host is ours', () => {
    expect(isAllowedOrigin('null', 'same-origin', 'help.example.org', allowed)).toBe(true);
    expect(isAllowedOrigin('null', 'same-origin', 'HELP.example.org', allowed)).toBe(true);
    expect(isAllowedOrigin('null', 'same-origin', 'evil.example', allowed)).toBe(false);
    expect(isAllowedOrigin('null', 'same-origin', null, allowed)).toBe(false);
    expect(isAllowedOrigin('null', 'cross-site', 'help.example.org', allowed)).toBe(false);
    expect(isAllowedOrigin('null', null, 'help.example.org', allowed)).toBe(false);
  });
});
