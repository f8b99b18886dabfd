import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { MAX_CANONICAL_URL_LENGTH } from '../../auth/jwt/canonical-request.js';
import { DEFAULT_LEEWAY_SECONDS } from '../../config/connect-options.js';
import { buildTokenReport, importPublicKeyPem, type Finding, type TokenReport, type VerificationKey } from '../../diagnostics/token-report.js';
import { isConnectError } from '../../errors/connect-error.js';
import { redactUrl } from '../../http/redact-url.js';
import { CONNECT_DEFAULTS } from '../../config/connect-defaults.js';
import { HttpInstallKeyResolver } from '../../keys/http-install-key-resolver.js';
import type { CliCommand, CliIo } from '../cli-io.js';

const USAGE = `Usage: atlassian-connect-nest explain <token> [options]

Decodes a Connect JWT (never printing a secret) and says whether it is valid for a request.

  --method <m>               method of the request (default GET; needs --url)
  --url <url>                the request URL as the app saw it: absolute, or path and query
  --base-url <url>           the app's baseUrl (its path is stripped before hashing; signed
                             installs must name it in aud)
  --secret <s>               the tenant's shared secret (HS256 tokens)
  --secret-env <name>        read the shared secret from this environment variable instead
  --public-key <file>        PEM file with Atlassian's RSA public key (RS256 signed installs)
  --install-keys-url <url>   fetch the key by the token's kid from this host; "default" means
                             ${CONNECT_DEFAULTS.installKeysUrl}
  --allow-context            the route opts in to context tokens (qsh "context-qsh")
  --leeway <s>               tolerated clock skew in seconds (default ${DEFAULT_LEEWAY_SECONDS})

Exit status: 0 the token is valid for the request (signature verified, exp/iat/nbf valid, qsh
matches or is an allowed context token, and for signed installs aud names --base-url);
1 invalid, or not verifiable (no key given, no --url, key host unreachable: "not checked");
2 usage error.`;

const LABEL_WIDTH = 10;

class UsageError extends Error {}

interface ExplainArgs {
  token: string;
  method: string;
  url: string | undefined;
  baseUrl: string | undefined;
  key: VerificationKey | undefined;
  allowContext: boolean;
  leewaySeconds: number;
}

/** `atlassian-connect-nest explain`: formatting only; the checks live in diagnostics/token-report. */
export const explain: CliCommand = async (argv, io) => {
  let args: ExplainArgs | 'help';
  try {
    args = await parseExplainArgs(argv, process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`explain: ${error.message}`);
    io.err('Run `atlassian-connect-nest explain --help` for the options.');
    return 2;
  }
  if (args === 'help') {
    io.out(USAGE);
    return 0;
  }

  let report: TokenReport;
  try {
    report = await buildTokenReport({
      token: args.token,
      key: args.key,
      ...(args.url !== undefined && { request: { method: args.method, url: args.url, allowContextQsh: args.allowContext } }),
      ...(args.baseUrl !== undefined && { baseUrl: args.baseUrl }),
      leewaySeconds: args.leewaySeconds,
    });
  } catch (error) {
    if (!isConnectError(error)) throw error;
    line(io, 'fail', 'token', error.message);
    io.out('Result: INVALID (the token cannot be decoded)');
    return 1;
  }
  printReport(io, report, args);
  return report.valid ? 0 : 1;
};

async function parseExplainArgs(argv: string[], env: NodeJS.ProcessEnv): Promise<ExplainArgs | 'help'> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        method: { type: 'string' },
        url: { type: 'string' },
        'base-url': { type: 'string' },
        secret: { type: 'string' },
        'secret-env': { type: 'string' },
        'public-key': { type: 'string' },
        'install-keys-url': { type: 'string' },
        'allow-context': { type: 'boolean', default: false },
        leeway: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length === 0) throw new UsageError('a token is required.');
  if (positionals.length > 1) throw new UsageError('only one token, please (quote the Authorization header value if it has a space).');
  const token = positionals[0]!.trim().replace(/^(JWT|Bearer)\s+/i, '');
  if (token === '') throw new UsageError('the token is empty.');

  if (values.method !== undefined && values.url === undefined) throw new UsageError('--method needs --url.');
  const method = values.method ?? 'GET';
  if (!/^[A-Za-z]+$/.test(method)) throw new UsageError('--method must be an HTTP method such as GET or POST.');
  if (values.url !== undefined && !values.url.startsWith('/') && !isHttpUrl(values.url)) {
    throw new UsageError('--url must be an absolute http(s) URL or a path starting with "/".');
  }
  if (values.url !== undefined && values.url.length > MAX_CANONICAL_URL_LENGTH) throw new UsageError(`--url is longer than ${MAX_CANONICAL_URL_LENGTH} characters.`);
  if (values['base-url'] !== undefined && !isHttpUrl(values['base-url'])) throw new UsageError('--base-url must be an absolute http(s) URL.');

  let leewaySeconds = DEFAULT_LEEWAY_SECONDS;
  if (values.leeway !== undefined) {
    leewaySeconds = Number(values.leeway);
    if (!/^\d+$/.test(values.leeway) || !Number.isSafeInteger(leewaySeconds)) throw new UsageError('--leeway must be a whole number of seconds.');
  }

  const keyOptions = (['secret', 'secret-env', 'public-key', 'install-keys-url'] as const).filter((name) => values[name] !== undefined);
  if (keyOptions.length > 1)
    throw new UsageError(`give only one of --secret, --secret-env, --public-key and --install-keys-url (got ${keyOptions.map((o) => `--${o}`).join(', ')}).`);
  let key: VerificationKey | undefined;
  if (values.secret !== undefined) {
    if (values.secret === '') throw new UsageError('--secret is empty.');
    key = { type: 'secret', secret: values.secret };
  } else if (values['secret-env'] !== undefined) {
    const secret = env[values['secret-env']];
    if (secret === undefined || secret === '') throw new UsageError(`the environment variable ${values['secret-env']} is not set or empty.`);
    key = { type: 'secret', secret };
  } else if (values['public-key'] !== undefined) {
    const file = values['public-key'];
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read --public-key ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`);
    }
    try {
      key = { type: 'public-key', key: await importPublicKeyPem(pem), source: file };
    } catch (error) {
      throw new UsageError(`--public-key ${file}: ${(error as Error).message}.`);
    }
  } else if (values['install-keys-url'] !== undefined) {
    const baseUrl = values['install-keys-url'] === 'default' ? CONNECT_DEFAULTS.installKeysUrl : values['install-keys-url'];
    try {
      key = { type: 'install-keys', resolver: new HttpInstallKeyResolver({ baseUrl }), source: baseUrl.replace(/\/+$/, '') };
    } catch (error) {
      throw new UsageError(`--install-keys-url: ${(error as Error).message}`);
    }
  }

  return {
    token,
    method,
    url: values.url,
    baseUrl: values['base-url'],
    key,
    allowContext: values['allow-context'] ?? false,
    leewaySeconds,
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function printReport(io: CliIo, report: TokenReport, args: ExplainArgs): void {
  io.out('Token');
  io.out(`  header     ${JSON.stringify(report.header)}`);
  io.out(`  claims     ${JSON.stringify(report.claims)}`);
  io.out('Checks');
  const checks: [string, Finding][] = [['alg', report.alg], ['iss', report.iss], ...report.times.map((t): [string, Finding] => [t.claim, t])];
  if (report.window) checks.push(['window', report.window]);
  checks.push(['signature', report.signature]);
  if (report.audience) checks.push(['aud', report.audience]);
  for (const [name, finding] of checks) line(io, finding.verdict, name, finding.message);
  if (report.signature.verdict === 'skip' && args.key === undefined) {
    detail(io, 'pass --secret or --secret-env for HS256, --public-key or --install-keys-url for RS256');
  }

  io.out('Request');
  if (args.url === undefined) {
    line(io, report.qsh.verdict, 'qsh', report.qsh.message);
    if (report.qsh.verdict === 'skip') detail(io, 'pass --url (and --base-url) to check the token against a request');
  } else {
    io.out(`  request    ${args.method.toUpperCase()} ${redactUrl(args.url)}`);
    io.out(`  baseUrl    ${args.baseUrl ?? '(not given: nothing is stripped from the path)'}`);
    const diagnosis = report.qsh.diagnosis;
    if (diagnosis) {
      io.out(`  canonical  ${diagnosis.canonical}`);
      io.out(`  computed   ${diagnosis.qsh}`);
      io.out(`  token qsh  ${String(report.claims.qsh)}`);
    }
    line(io, report.qsh.verdict, 'qsh', report.qsh.message);
    if (diagnosis?.variant) {
      detail(io, `signed     ${diagnosis.variant.canonical}`);
      detail(io, `hint       ${diagnosis.variant.hint}`);
    } else if (diagnosis && !diagnosis.matches && !diagnosis.contextToken) {
      detail(io, 'no usual distortion (proxy re-encoding, baseUrl prefix, trailing slash, query, method) explains it;');
      detail(io, 'compare the canonical request above with the URL the product called');
    }
    if (report.route) line(io, report.route.verdict, 'route', report.route.message);
  }

  const named: [string, Finding][] = [...checks, ['qsh', report.qsh], ...(report.route ? [['route', report.route] as [string, Finding]] : [])];
  const failed = named.filter(([, f]) => f.verdict === 'fail').map(([name]) => name);
  const unchecked = named.filter(([, f]) => f.verdict === 'skip').map(([name]) => `${name} not checked`);
  if (report.valid) io.out('Result: VALID for this request');
  else if (failed.length > 0) io.out(`Result: INVALID (${failed.join(', ')})${unchecked.length > 0 ? `; ${unchecked.join(', ')}` : ''}`);
  else io.out(`Result: NOT VERIFIED (${unchecked.join(', ')})`);
}

const TAGS: Record<Finding['verdict'], string> = { ok: 'OK', fail: 'FAIL', skip: 'SKIP', warn: 'WARN', info: 'INFO' };

function line(io: CliIo, verdict: Finding['verdict'], name: string, message: string): void {
  io.out(`  ${TAGS[verdict].padEnd(5)} ${name.padEnd(LABEL_WIDTH)} ${message}`);
}

function detail(io: CliIo, message: string): void {
  io.out(`  ${''.padEnd(5)} ${''.padEnd(LABEL_WIDTH)} ${message}`);
}
