import { parseArgs } from 'node:util';
import { isConnectProduct } from '../../config/connect-product.js';
import { isForgeAppId } from '../../forge/forge-app-id.js';
import { ForgeRemoteSimulation, SIMULATED_TRIGGER_KEY } from '../../simulator/forge-remote.js';
import { Simulation, SIMULATOR_TOKEN_PATH, type SimulationOptions } from '../../simulator/simulation.js';
import { formatTable } from '../../simulator/table.js';
import type { ForgeRemoteReport, ForgeRemoteSimulationOptions } from '../../simulator/forge-remote.js';
import type { CliCommand, CliIo } from '../cli-io.js';

export const SIMULATE_HELP = `Usage: atlassian-connect-nest simulate --descriptor <url> [options]
       atlassian-connect-nest simulate --forge-remote <url> --forge-app-id <id> [options]

Acts as a Jira or Confluence Cloud site on 127.0.0.1 against your running app: fetches and checks the
descriptor like the product, performs a signed install (RS256 with a kid, aud = the descriptor's
baseUrl, request-bound qsh), enables the app, loads every page module and posts every webhook the way
the product does, and prints a table of the steps (step, HTTP status, ms, problem).
Exit code: 0 when every step passed, 1 when one failed, 2 for usage errors.

Options:
  --descriptor <url>     the app's descriptor URL (required)
  --product <product>    jira | confluence. Default: guessed from the descriptor (product-specific module
                         types, PROJECT_ADMIN/SPACE_ADMIN, webhook events, web locations, then the words
                         jira/confluence in key or baseUrl); --product always wins
  --keys-port <n>        port of the install-key server (default: a free one). Start the app beforehand with
                         CONNECT_INSTALL_KEYS_URL=http://127.0.0.1:<n> so it trusts this simulator's key
  --port <n>             port of the simulated site's REST API (default: a free one). It is the site's baseUrl
                         in the install payload (Confluence: with /wiki) and answers the app's outbound calls
  --context-url <path>   also GET this app URL (relative to the baseUrl) with a context token
                         (qsh "context-qsh"), as the app's front end does after AP.context.getToken().
                         Repeatable. The descriptor does not say which routes take context tokens, so the
                         simulator calls only the ones you name
  --account-id <id>      the user (sub) of page and context tokens (default 5b10ac8d82e05b22cc7d4ef5)
  --rotate               re-install with a new shared secret; the old secret must then be refused (401) and
                         the new one accepted, on the first page module (else webhook, else context URL)
  --uninstall            send disabled and uninstalled, then check that a page load is refused (401)
  --keep                 stay up until Ctrl-C (SIGINT/SIGTERM): prints a ready curl line per module (tokens
                         valid for an hour) and signs further tokens on request:
                           curl 'http://127.0.0.1:<port>${SIMULATOR_TOKEN_PATH}?method=GET&url=/jira/pages/hello'
                         answers the token as text. url is the path below the app's origin (with its query;
                         qsh is computed with the baseUrl path stripped). Add &qsh=context for a context
                         token, &sub=<accountId>, &expiresIn=<seconds> (default 180), &format=json for the
                         canonical request and qsh
  --forge-remote <url>   act as Forge calling this Forge Remote endpoint (a @ForgeAuth() route): serves a
                         JWKS with a fresh RSA key, invokes the URL with a valid Forge Invocation Token and
                         the x-forge-oauth-system/-user headers (expects 2xx), then with no token, a token
                         for another app (wrong aud) and an expired token (each must be refused with 401).
                         Alone or after the Connect steps of --descriptor
  --forge-app-id <id>    the Forge app id the app is configured with (forge.appId; required with --forge-remote)
  --forge-jwks-port <n>  port of the Forge JWKS server (default: a free one). Start the app beforehand with
                         FORGE_JWKS_URL=http://127.0.0.1:<n>/.well-known/jwks.json so it trusts this simulator
  --forge-method <m>     HTTP method of the Forge invocations (default POST)
  --forge-events-path <p>
                         where the app takes Forge events (the framework serves them for each app with
                         forge.appId at <app basePath>/forge/events, forgeEvents.path). A path on the
                         --forge-remote URL's origin, e.g. /jira/forge/events, or an absolute URL. Default
                         with --descriptor: the descriptor's baseUrl + /forge/events; without --descriptor
                         the basePath is unknown and the event steps run only with this option. Forge's
                         deliveries to it: avi:forge:installed:app, a product event (Jira
                         avi:jira:created:issue, Confluence avi:confluence:created:page; by --product, else
                         the descriptor, else Jira), the scheduled trigger (/scheduled) and preUninstall
                         (/pre-uninstall), each expecting 2xx and redelivered once (with retryContext)
                         when not; then an event without a FIT, which must be refused with 401
  --forge-trigger-key <k>
                         the scheduledTrigger module key to fire (default ${SIMULATED_TRIGGER_KEY})
  --no-forge-events      leave out the event steps (an app with forgeEvents.path: false)
  -h, --help             this text

What the simulated site calls:
  lifecycle      installed (RS256 signed install, full payload) then enabled (HS256); a second enabled
                 carrying a context token must be refused (CVE-2021-26074)
  page modules   generalPages, adminPages, configurePage, postInstallPage, webPanels, dialogs, webItems that
                 open a dialog; Jira: jiraProjectPages, jira*TabPanels, jiraDashboardItems, jiraReports,
                 jiraIssueContents, jiraIssueGlances, jiraBackgroundScripts; Confluence: staticContentMacros,
                 dynamicContentMacros, spaceToolsTabs. GET <url>?xdm_e&xdm_c&cp&lic&cv&tz&loc&jwt=<HS256,
                 request-bound qsh>, {page.id}-style variables filled with sample values. Expects 200
  webhooks       POST <url> with a sample event body and Authorization: JWT (request-bound qsh). Expects 2xx`;

export const simulate: CliCommand = async (argv, io) => {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        descriptor: { type: 'string' },
        product: { type: 'string' },
        'keys-port': { type: 'string' },
        port: { type: 'string' },
        'context-url': { type: 'string', multiple: true },
        'account-id': { type: 'string' },
        rotate: { type: 'boolean' },
        uninstall: { type: 'boolean' },
        keep: { type: 'boolean' },
        'forge-remote': { type: 'string' },
        'forge-app-id': { type: 'string' },
        'forge-jwks-port': { type: 'string' },
        'forge-method': { type: 'string' },
        'forge-events-path': { type: 'string' },
        'forge-trigger-key': { type: 'string' },
        'no-forge-events': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    io.err(`simulate: ${error instanceof Error ? error.message : String(error)}`);
    io.err('Run `atlassian-connect-nest simulate --help` for the options.');
    return 2;
  }
  if (values.help) {
    io.out(SIMULATE_HELP);
    return 0;
  }
  const usage = (message: string) => {
    io.err(`simulate: ${message}`);
    io.err('Run `atlassian-connect-nest simulate --help` for the options.');
    return 2;
  };
  const descriptorUrl = values.descriptor as string | undefined;
  const forgeRemote = values['forge-remote'] as string | undefined;
  const forgeAppId = values['forge-app-id'] as string | undefined;
  if (forgeRemote !== undefined) {
    if (!isHttpUrl(forgeRemote)) return usage(`--forge-remote ${JSON.stringify(forgeRemote)} is not an absolute http(s) URL.`);
    if (forgeAppId === undefined) return usage('--forge-app-id <id> is required with --forge-remote (the forge.appId the app is configured with).');
    if (!isForgeAppId(forgeAppId)) return usage(`--forge-app-id must be a Forge app id (a lower-case UUID), not ${JSON.stringify(forgeAppId)}.`);
  } else if (FORGE_ONLY_OPTIONS.some((name) => values[name] !== undefined)) {
    return usage(`${FORGE_ONLY_OPTIONS.map((name) => `--${name}`).join(', ')} go with --forge-remote <url>.`);
  }
  const forgeJwksPort = parsePort(values['forge-jwks-port'] as string | undefined);
  if (forgeJwksPort === null) return usage('--forge-jwks-port must be a port number (0-65535).');
  const forgeMethod = values['forge-method'] as string | undefined;
  if (forgeMethod !== undefined && !/^(GET|POST|PUT|PATCH|DELETE)$/i.test(forgeMethod)) return usage('--forge-method must be GET, POST, PUT, PATCH or DELETE.');
  const eventsPath = values['forge-events-path'] as string | undefined;
  const noEvents = values['no-forge-events'] === true;
  if (eventsPath !== undefined && noEvents) return usage('--forge-events-path and --no-forge-events contradict each other.');
  const eventsUrl = forgeRemote === undefined || eventsPath === undefined ? undefined : resolveEventsUrl(eventsPath, forgeRemote);
  if (eventsUrl === null) return usage(`--forge-events-path must be a path starting with / (e.g. /jira/forge/events) or an http(s) URL, not ${JSON.stringify(eventsPath)}.`);
  const triggerKey = values['forge-trigger-key'] as string | undefined;
  if (triggerKey !== undefined && !/^[a-zA-Z0-9_-]{1,255}$/.test(triggerKey))
    return usage(`--forge-trigger-key must be a module key (a-z, A-Z, 0-9, _ and -), not ${JSON.stringify(triggerKey)}.`);
  const product = values.product as string | undefined;
  if (product !== undefined && !isConnectProduct(product)) return usage(`--product must be jira or confluence, not ${JSON.stringify(product)}.`);
  const forge: ForgeOptions | undefined =
    forgeRemote === undefined
      ? undefined
      : {
          url: forgeRemote,
          appId: forgeAppId!,
          ...(forgeJwksPort !== undefined && { jwksPort: forgeJwksPort }),
          ...(forgeMethod !== undefined && { method: forgeMethod }),
          ...(eventsUrl !== undefined && { eventsUrl }),
          ...(product !== undefined && { product }),
          ...(triggerKey !== undefined && { triggerKey }),
          noEvents,
        };
  if (!descriptorUrl && forge !== undefined) {
    if (values.keep) return usage('--keep needs --descriptor.');
    return simulateForgeRemote(forge, typeof values['account-id'] === 'string' ? values['account-id'] : undefined, io);
  }
  if (!descriptorUrl) return usage('--descriptor <url> is required (e.g. http://localhost:3000/jira/atlassian-connect.json).');
  try {
    const url = new URL(descriptorUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return usage(`--descriptor must be an http(s) URL, not ${url.protocol}`);
  } catch {
    return usage(`--descriptor ${JSON.stringify(descriptorUrl)} is not an absolute URL.`);
  }
  const keysPort = parsePort(values['keys-port'] as string | undefined);
  const port = parsePort(values.port as string | undefined);
  if (keysPort === null) return usage('--keys-port must be a port number (0-65535).');
  if (port === null) return usage('--port must be a port number (0-65535).');
  if (keysPort !== undefined && keysPort !== 0 && keysPort === port) return usage('--keys-port and --port must differ.');
  if (forgeJwksPort !== undefined && forgeJwksPort !== 0 && (forgeJwksPort === keysPort || forgeJwksPort === port)) {
    return usage('--forge-jwks-port must differ from --keys-port and --port.');
  }

  const options: SimulationOptions = {
    descriptorUrl,
    ...(product !== undefined && { product }),
    ...(keysPort !== undefined && { keysPort }),
    ...(port !== undefined && { port }),
    contextUrls: (values['context-url'] as string[] | undefined) ?? [],
    ...(typeof values['account-id'] === 'string' && { accountId: values['account-id'] }),
    rotate: values.rotate === true,
    uninstall: values.uninstall === true,
  };

  let simulation: Simulation;
  try {
    simulation = await Simulation.start(options);
  } catch (error) {
    io.err(`simulate: could not start the install-key server${keysPort ? ` on port ${keysPort}` : ''}: ${listenProblem(error)}`);
    return 2;
  }
  try {
    io.out(`Install keys served at ${simulation.installKeysUrl} (the app must run with CONNECT_INSTALL_KEYS_URL=${simulation.installKeysUrl}).`);
    let report;
    try {
      report = await simulation.run((line) => io.out(line));
    } catch (error) {
      if (isListenError(error)) {
        io.err(`simulate: could not start the site's REST API${port ? ` on port ${port}` : ''}: ${listenProblem(error)}`);
        return 2;
      }
      throw error;
    }
    if (forge !== undefined) {
      // The events endpoint is below the app's basePath, which the descriptor's baseUrl gives.
      const app = simulation.app;
      const forgeReport = await runForgeRemote(
        { ...(app !== undefined && { eventsUrl: `${app.baseUrl}${DEFAULT_FORGE_EVENTS_PATH}`, product: app.product }), ...forge },
        options.accountId,
        io,
      );
      if (forgeReport === undefined) return 2;
      report = { ...report, ok: report.ok && forgeReport.ok, rows: [...report.rows, ...forgeReport.rows], hints: [...report.hints, ...forgeReport.hints] };
    }
    io.out('');
    for (const line of formatTable(report.rows)) io.out(line);
    for (const hint of report.hints) io.out(`\nHint: ${hint}`);
    const failed = report.rows.filter((r) => !r.ok).length;
    io.out(`\n${failed === 0 ? 'PASS' : 'FAIL'}: ${report.rows.length} step${report.rows.length === 1 ? '' : 's'}, ${failed} failed.`);

    if (values.keep) {
      const curls = await simulation.curlLines();
      if (curls.length > 0) {
        io.out('\nReady-to-run requests (tokens valid for an hour):');
        for (const line of curls) io.out(line);
      }
      if (simulation.tokenEndpoint) {
        io.out(`\nMore tokens: curl '${simulation.tokenEndpoint}?method=GET&url=<path below the app origin>' (&qsh=context, &format=json).`);
        io.out(`Site REST API: ${simulation.site!.baseUrl}; OAuth token endpoint: ${simulation.host.authorizationServer.tokenUrl}.`);
      }
      io.out('Simulator running; press Ctrl-C to stop.');
      await io.stopped;
      io.out('Simulator stopped.');
    }
    return report.ok ? 0 : 1;
  } finally {
    await simulation.close();
  }
};

/** The options that mean nothing without `--forge-remote`. */
const FORGE_ONLY_OPTIONS = ['forge-app-id', 'forge-jwks-port', 'forge-method', 'forge-events-path', 'forge-trigger-key', 'no-forge-events'] as const;

/** Where the framework serves Forge events below an app's basePath unless `forgeEvents.path` says otherwise. */
const DEFAULT_FORGE_EVENTS_PATH = '/forge/events';

/** The Forge options of the command line; `noEvents` drops the event steps even when an events URL is known. */
interface ForgeOptions extends ForgeRemoteSimulationOptions {
  noEvents: boolean;
}

/** `--forge-events-path`: an absolute http(s) URL as is, a path on the `--forge-remote` origin; null when neither. */
function resolveEventsUrl(path: string, forgeRemote: string): string | null {
  if (isHttpUrl(path)) return path;
  if (!path.startsWith('/') || path.startsWith('//')) return null;
  return `${new URL(forgeRemote).origin}${path}`;
}

/** `simulate --forge-remote` without `--descriptor`: only the Forge steps, in the same table. */
async function simulateForgeRemote(options: ForgeOptions, accountId: string | undefined, io: CliIo): Promise<number> {
  const report = await runForgeRemote(options, accountId, io);
  if (report === undefined) return 2;
  io.out('');
  for (const line of formatTable(report.rows)) io.out(line);
  for (const hint of report.hints) io.out(`\nHint: ${hint}`);
  const failed = report.rows.filter((r) => !r.ok).length;
  io.out(`\n${failed === 0 ? 'PASS' : 'FAIL'}: ${report.rows.length} step${report.rows.length === 1 ? '' : 's'}, ${failed} failed.`);
  return report.ok ? 0 : 1;
}

/** Starts the Forge JWKS, says which FORGE_JWKS_URL the app needs, invokes the endpoint; undefined when the JWKS could not start. */
async function runForgeRemote(forge: ForgeOptions, accountId: string | undefined, io: CliIo): Promise<ForgeRemoteReport | undefined> {
  const { noEvents, eventsUrl, ...rest } = forge;
  const options: ForgeRemoteSimulationOptions = { ...rest, ...(!noEvents && eventsUrl !== undefined && { eventsUrl }), ...(accountId !== undefined && { accountId }) };
  let simulation: ForgeRemoteSimulation;
  try {
    simulation = await ForgeRemoteSimulation.start(options);
  } catch (error) {
    io.err(`simulate: could not start the Forge JWKS server${options.jwksPort ? ` on port ${options.jwksPort}` : ''}: ${listenProblem(error)}`);
    return undefined;
  }
  try {
    io.out(`Forge JWKS served at ${simulation.jwksUrl} (the app must run with FORGE_JWKS_URL=${simulation.jwksUrl}).`);
    io.out(`Forge Remote endpoint: ${options.url} (Forge app id ${options.appId}, installation ${simulation.host.installationId}).`);
    if (options.eventsUrl !== undefined) {
      io.out(`Forge events endpoint: ${options.eventsUrl} (scheduled trigger ${options.triggerKey ?? SIMULATED_TRIGGER_KEY}).`);
    } else if (!noEvents) {
      io.out("Forge events: not simulated: without --descriptor the app's basePath is unknown; give --forge-events-path <basePath>/forge/events.");
    }
    return await simulation.run();
  } finally {
    await simulation.close();
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** undefined when absent, null when invalid. */
function parsePort(value: string | undefined): number | undefined | null {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value)) return null;
  const port = Number(value);
  return port <= 65535 ? port : null;
}

function isListenError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL';
}

function listenProblem(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE') return 'the port is already in use (another simulator still running?)';
  if (code === 'EACCES') return 'permission denied for that port';
  return error instanceof Error ? error.message : String(error);
}
