import { keyPrefixProblem, packageNameFrom, resolveScaffoldOptions, ScaffoldOptionsError, titleFrom, type ScaffoldInput } from './scaffold-options.js';

const CWD = '/work/projects';

function problemsOf(input: ScaffoldInput): string[] {
  try {
    resolveScaffoldOptions(input, CWD);
  } catch (error) {
    if (error instanceof ScaffoldOptionsError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe('resolveScaffoldOptions', () => {
  it('derives everything from the directory name by default: both products, /jira and /confluence', () => {
    expect(resolveScaffoldOptions({ directory: 'my-app' }, CWD)).toEqual({
      directory: '/work/projects/my-app',
      packageName: 'my-app',
      name: 'My App',
      keyPrefix: 'com.example.my-app',
      apps: [
        { product: 'jira', key: 'com.example.my-app.jira', path: '/jira' },
        { product: 'confluence', key: 'com.example.my-app.confluence', path: '/confluence' },
      ],
      packageManager: 'npm',
      adapter: 'fastify',
      frameworkSpec: undefined,
    });
  });

  it.each<[string, string]>([
    ['fastify', 'fastify'],
    ['express', 'express'],
    [' Express ', 'express'],
    ['FASTIFY', 'fastify'],
  ])('reads --adapter %j', (adapter, expected) => {
    expect(resolveScaffoldOptions({ directory: 'a', adapter }, CWD).adapter).toBe(expected);
  });

  it('takes the options given', () => {
    const options = resolveScaffoldOptions(
      {
        directory: '/elsewhere/x',
        products: 'confluence',
        name: 'Team Notes',
        keyPrefix: 'io.acme.notes',
        packageManager: 'npm',
        adapter: 'express',
        frameworkSpec: 'file:/tmp/a.tgz',
      },
      CWD,
    );
    expect(options).toMatchObject({ directory: '/elsewhere/x', name: 'Team Notes', keyPrefix: 'io.acme.notes', adapter: 'express', frameworkSpec: 'file:/tmp/a.tgz' });
    expect(options.apps).toEqual([{ product: 'confluence', key: 'io.acme.notes.confluence', path: '/confluence' }]);
  });

  it.each<[string, string[]]>([
    ['jira', ['jira']],
    ['confluence', ['confluence']],
    ['jira,confluence', ['jira', 'confluence']],
    ['confluence,jira', ['jira', 'confluence']],
    [' Jira , CONFLUENCE ,jira,', ['jira', 'confluence']],
  ])('reads --products %j', (products, expected) => {
    expect(resolveScaffoldOptions({ directory: 'a', products }, CWD).apps.map((app) => app.product)).toEqual(expected);
  });

  it.each<[ScaffoldInput, string]>([
    [{ directory: 'a', products: 'trello' }, 'Unknown product "trello" in --products; use jira, confluence'],
    [{ directory: 'a', products: 'jira,bitbucket,trello' }, 'Unknown products "bitbucket", "trello"'],
    [{ directory: 'a', products: '' }, '--products needs at least one of jira, confluence'],
    [{ directory: 'a', products: ' , ' }, '--products needs at least one of jira, confluence'],
    [{ directory: 'a', name: '' }, 'The app name is empty'],
    [{ directory: 'a', name: '   ' }, 'The app name is empty'],
    [{ directory: 'a', name: ' My App' }, 'starts or ends with white space'],
    [{ directory: 'a', name: 'My\nApp' }, 'contains control characters or line breaks'],
    [{ directory: 'a', name: 'x'.repeat(81) }, 'The app name is 81 characters long; use at most 80'],
    [{ directory: 'a', keyPrefix: '' }, 'The key prefix is empty'],
    [{ directory: 'a', keyPrefix: 'com.example/app' }, 'The key prefix "com.example/app" is not valid: app keys use only a-z, A-Z, 0-9, ".", "_" and "-"'],
    [{ directory: 'a', keyPrefix: 'com.exämple' }, 'is not valid'],
    [{ directory: 'a', keyPrefix: 'x'.repeat(54) }, `the app key "${'x'.repeat(54)}.confluence" would have 65; app keys have at most 64 characters (use a prefix of at most 53)`],
    [{ directory: 'a', keyPrefix: 'x'.repeat(60), products: 'jira' }, 'would have 65; app keys have at most 64 characters (use a prefix of at most 59)'],
    [{ directory: 'a', packageManager: 'yarn' }, '--package-manager "yarn" is not supported; use npm'],
    [{ directory: 'a', adapter: 'koa' }, '--adapter "koa" is not supported; use fastify or express.'],
    [{ directory: 'a', adapter: '' }, '--adapter "" is not supported; use fastify or express.'],
    [{ directory: 'a', adapter: '@nestjs/platform-express' }, '--adapter "@nestjs/platform-express" is not supported'],
    [{ directory: 'a', frameworkSpec: '' }, '--framework-spec must be a non-empty npm dependency spec'],
    [{ directory: '' }, 'The target directory is empty'],
  ])('refuses %j', (input, message) => {
    expect(problemsOf(input).join('\n')).toContain(message);
  });

  it('accepts keys of exactly 64 characters', () => {
    expect(resolveScaffoldOptions({ directory: 'a', keyPrefix: 'x'.repeat(53) }, CWD).apps.map((app) => app.key.length)).toEqual([58, 64]);
    expect(resolveScaffoldOptions({ directory: 'a', keyPrefix: 'x'.repeat(59), products: 'jira' }, CWD).apps[0]!.key).toHaveLength(64);
    expect(resolveScaffoldOptions({ directory: 'a', name: 'é'.repeat(80) }, CWD).name).toHaveLength(80);
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ directory: 'a', products: 'trello', name: '', keyPrefix: 'a b', packageManager: 'pnpm', adapter: 'hapi' })).toHaveLength(5);
  });

  it('says where a derived value came from when it is the problem', () => {
    const long = 'a'.repeat(60);
    const problems = problemsOf({ directory: `/tmp/${long}` });
    expect(problems.join('\n')).toContain('The prefix comes from the directory name');
    expect(problems.join('\n')).toContain('pass --key-prefix');
    expect(problemsOf({ directory: '/tmp/---', keyPrefix: 'com.example.x' }).join('\n')).toContain('pass --name');
  });
});

describe('names derived from a directory', () => {
  it.each([
    ['my-app', 'my-app', 'My App'],
    ['My Connect_App', 'my-connect_app', 'My Connect App'],
    ['.hidden', 'hidden', 'Hidden'],
    ['Über app!', 'uber-app', 'Über App!'],
    ['日本', 'connect-app', '日本'],
    ['___', 'connect-app', ''],
  ])('%j → package %j, title %j', (directory, packageName, title) => {
    expect(packageNameFrom(directory)).toBe(packageName);
    expect(titleFrom(directory)).toBe(title);
  });

  it('checks a prefix against the longest product suffix chosen', () => {
    expect(keyPrefixProblem('x'.repeat(59), ['jira'])).toBeUndefined();
    expect(keyPrefixProblem('x'.repeat(59), ['jira', 'confluence'])).toContain('at most 53');
  });
});
