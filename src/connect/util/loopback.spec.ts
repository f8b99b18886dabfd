import { isLoopbackAddress, isLoopbackHost } from './loopback.js';

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['[::1]', true],
    ['app.localhost', false],
    ['127.example.com', false],
    ['128.0.0.1', false],
    ['10.0.0.1', false],
    ['::1', false], // a URL host name always brackets IPv6
  ])('%s: %p', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('isLoopbackAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.9.9.9', true],
    ['::ffff:127.0.0.1', true],
    ['::1', true],
    ['10.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['', false],
  ])('%s: %p', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });
});
