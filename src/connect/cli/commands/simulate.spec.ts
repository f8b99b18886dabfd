import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CliIo } from '../cli-io.js';
import { simulate } from './simulate.js';

function captureIo(): CliIo & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { outLines, errLines, out: (line) => outLines.push(line), err: (line) => errLines.push(line), stopped: new Promise(() => undefined) };
}

describe('simulate command: arguments', () => {
  it('prints the help, including the token endpoint', async () => {
    const io = captureIo();
    expect(await simulate(['--help'], io)).toBe(0);
    const help = io.outLines.join('\n');
    expect(help).toContain('Usage: atlassian-connect-nest simulate --descriptor <url>');
    expect(help).toContain('/_simulator/token?method=GET&url=/jira/pages/hello');
    expect(help).toContain('CONNECT_INSTALL_KEYS_URL=http://127.0.0.1:<n>');
    expect(help).toContain('FORGE_JWKS_URL=http://127.0.0.1:<n>/.well-known/jwks.json');
    expect(help).toContain('--forge-events-path <p>');
    expect(help).toContain('<app basePath>/forge/events');
  });

  it.each<[string[], string]>([
    [[], '--descriptor <url> is required'],
    [['--descriptor', 'not a url'], 'is not an absolute URL'],
    [['--descriptor', 'file:///etc/passwd'], 'must be an http(s) URL'],
    [['--descriptor', 'http://x/d.json', '--product', 'trello'], '--product must be jira or confluence'],
    [['--descriptor', 'http://x/d.json', '--keys-port', 'abc'], '--keys-port must be a port number'],
    [['--descriptor', 'http://x/d.json', '--port', '70000'], '--port must be a port number'],
    [['--descriptor', 'http://x/d.json', '--port', '4000', '--keys-port', '4000'], '--keys-port and --port must differ'],
    [['--descriptor', 'http://x/d.json', '--bogus'], "Unknown option '--bogus'"],
    [['--forge-remote', 'http://x/forge/hello'], '--forge-app-id <id> is required with --forge-remote'],
    [['--forge-remote', 'not a url', '--forge-app-id', '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11'], 'is not an absolute http(s) URL'],
    [['--forge-remote', 'http://x/f', '--forge-app-id', 'my-app'], '--forge-app-id must be a Forge app id'],
    [['--forge-remote', 'http://x/f', '--forge-app-id', '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11', '--forge-jwks-port', 'x'], '--forge-jwks-port must be a port number'],
    [['--forge-remote', 'http://x/f', '--forge-app-id', '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11', '--forge-method', 'TRACE'], '--forge-method must be'],
    [['--forge-remote', 'http://x/f', '--forge-app-id', '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11', '--keep'], '--keep needs --descriptor'],
    [['--descriptor', 'http://x/d.json', '--forge-app-id', '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11'], 'go with --forge-remote <url>'],
    [['--descriptor', 'http://x/d.json', '--forge-events-path', '/jira/forge/events'], 'go with --forge-remote <url>'],
    [['--descriptor', 'http://x/d.json', '--no-forge-events'], 'go with --forge-remote <url>'],
    [
      ['--forge-remote', 'http://x/f', '--forge-app-id', '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11', '--forge-events-path', 'jira/forge/events'],
      '--forge-events-path must be a path starting with /',
    ],
    [
      ['--forge-remote', 'http://x/f', '--forge-app-id', '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11', '--forge-events-path', '//evil.example/forge/events'],
      '--forge-events-path must be a path',
    ],
    [['--forge-remote', 'http://x/f', '--forge-app-id', '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11', '--forge-events-path', '/e', '--no-forge-events'], 'contradict each other'],
    [['--forge-remote', 'http://x/f', '--forge-app-id', '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11', '--forge-trigger-key', 'hourly sync'], '--forge-trigger-key must be a module key'],
    [['--forge-remote', 'http://x/f', '--forge-app-id', '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11', '--product', 'trello'], '--product must be jira or confluence'],
    [
      [
        '--descriptor',
        'http://x/d.json',
        '--keys-port',
        '4000',
        '--forge-remote',
        'http://x/f',
        '--forge-app-id',
        '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11',
        '--forge-jwks-port',
        '4000',
      ],
      '--forge-jwks-port must differ',
    ],
  ])('refuses %j with exit code 2', async (argv, message) => {
    const io = captureIo();
    expect(await simulate(argv, io)).toBe(2);
    expect(io.errLines[0]).toContain(message);
  });

  it('exits 2 with a clear message when the keys port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const io = captureIo();
      expect(await simulate(['--descriptor', 'http://127.0.0.1:1/d.json', '--keys-port', String(port)], io)).toBe(2);
      expect(io.errLines).toEqual([`simulate: could not start the install-key server on port ${port}: the port is already in use (another simulator still running?)`]);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
