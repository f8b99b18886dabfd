import type { CliCommand, CliIo } from './cli-io.js';

/** Subcommands, loaded on demand so `explain` does not pay for what `simulate` needs. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  new: { summary: 'create a NestJS Connect app for Jira and/or Confluence, with tests', load: async () => (await import('./commands/new.js')).newApp },
  simulate: {
    summary: 'act as a Jira or Confluence Cloud site (signed install, page loads, webhooks) or as Forge (--forge-remote)',
    load: async () => (await import('./commands/simulate.js')).simulate,
  },
  explain: { summary: 'decode a Connect JWT and explain why it is (not) valid for a request', load: async () => (await import('./commands/explain.js')).explain },
  doctor: { summary: 'check a running app from outside: descriptor, migrations, lifecycle routes', load: async () => (await import('./commands/doctor.js')).doctor },
  manifest: {
    summary: 'write the Connect-on-Forge manifest.yml of an app from its configuration and handlers',
    load: async () => (await import('./commands/manifest.js')).manifest,
  },
};

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out('Usage: atlassian-connect-nest <command> [options]\n');
    for (const [command, { summary }] of Object.entries(COMMANDS)) io.out(`  ${command.padEnd(10)} ${summary}`);
    io.out('\nRun `atlassian-connect-nest <command> --help` for the options of a command.');
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.err(`Unknown command ${JSON.stringify(name)}. Commands: ${Object.keys(COMMANDS).join(', ')}.`);
    return 2;
  }
  return (await command.load())(rest, io);
}
