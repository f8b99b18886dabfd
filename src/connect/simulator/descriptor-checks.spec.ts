import { checkDescriptor, guessProduct, moduleUrlProblem, type DescriptorProblem } from './descriptor-checks.js';

function descriptor(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    key: 'com.example.app',
    name: 'Example',
    baseUrl: 'https://app.example.com/jira',
    authentication: { type: 'jwt' },
    lifecycle: { installed: '/installed', uninstalled: '/uninstalled', enabled: '/enabled', disabled: '/disabled' },
    apiMigrations: { 'signed-install': true, 'context-qsh': true },
    scopes: ['READ'],
    modules: { generalPages: [{ key: 'hello', name: { value: 'Hello' }, url: '/pages/hello', location: 'system.top.navigation.bar' }] },
    ...overrides,
  };
}

const errors = (problems: DescriptorProblem[]) => problems.filter((p) => p.severity === 'error').map((p) => `${p.field}: ${p.message}`);
const warnings = (problems: DescriptorProblem[]) => problems.filter((p) => p.severity === 'warning').map((p) => p.field);

describe('checkDescriptor', () => {
  it('accepts a complete descriptor without problems', () => {
    const result = checkDescriptor(descriptor());
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ product: 'jira', productSource: 'descriptor', fatal: false });
  });

  it('refuses what is not an object', () => {
    expect(checkDescriptor('nope')).toMatchObject({ fatal: true, problems: [{ severity: 'error', field: '(descriptor)' }] });
    expect(checkDescriptor([]).fatal).toBe(true);
  });

  it('checks the key: present, at most 64 characters, safe characters', () => {
    expect(checkDescriptor(descriptor({ key: undefined }))).toMatchObject({ fatal: true });
    expect(errors(checkDescriptor(descriptor({ key: 'a'.repeat(65) })).problems)).toEqual(['key: The key is 65 characters long; at most 64 are allowed.']);
    expect(checkDescriptor(descriptor({ key: 'a'.repeat(64) })).problems).toEqual([]);
    expect(errors(checkDescriptor(descriptor({ key: 'com.example/app key' })).problems)).toEqual([
      'key: The key "com.example/app key" may only contain letters, digits, dots, dashes and underscores.',
    ]);
  });

  it('checks the baseUrl and warns about http', () => {
    expect(checkDescriptor(descriptor({ baseUrl: undefined })).fatal).toBe(true);
    expect(checkDescriptor(descriptor({ baseUrl: '/jira' })).fatal).toBe(true);
    expect(checkDescriptor(descriptor({ baseUrl: 'ftp://x/y' })).fatal).toBe(true);
    expect(errors(checkDescriptor(descriptor({ baseUrl: 'https://a.example/x?y=1' })).problems)).toEqual(['baseUrl: The baseUrl must not have a query string or fragment.']);
    const http = checkDescriptor(descriptor({ baseUrl: 'http://127.0.0.1:3000/jira' }));
    expect([errors(http.problems), warnings(http.problems), http.fatal]).toEqual([[], ['baseUrl'], false]);
  });

  it('requires authentication type jwt', () => {
    expect(checkDescriptor(descriptor({ authentication: undefined })).fatal).toBe(true);
    const none = checkDescriptor(descriptor({ authentication: { type: 'none' } }));
    expect(none.fatal).toBe(true);
    expect(errors(none.problems)[0]).toContain('must be "jwt"');
  });

  it('requires an installed lifecycle URL and warns about the others', () => {
    const missing = checkDescriptor(descriptor({ lifecycle: {} }));
    expect(missing.fatal).toBe(true);
    expect(errors(missing.problems)).toEqual(['lifecycle.installed: There is no "installed" lifecycle URL: the app would never receive its shared secret.']);
    expect(warnings(missing.problems)).toEqual(['lifecycle.uninstalled', 'lifecycle.enabled', 'lifecycle.disabled']);
    const elsewhere = checkDescriptor(descriptor({ lifecycle: { installed: '/installed', uninstalled: 'https://evil.example/uninstalled' } }));
    expect(errors(elsewhere.problems)).toEqual([
      'lifecycle.uninstalled: "https://evil.example/uninstalled" points to another origin (https://evil.example) than the baseUrl (https://app.example.com): the product would send signed requests there.',
    ]);
    expect(checkDescriptor(descriptor({ lifecycle: { installed: 'https://evil.example/installed' } })).fatal).toBe(true);
  });

  it('requires the signed-install migration and warns without context-qsh', () => {
    const result = checkDescriptor(descriptor({ apiMigrations: { 'signed-install': false } }));
    expect(errors(result.problems)).toEqual([expect.stringMatching(/^apiMigrations\.signed-install: .*must be true/)]);
    expect(warnings(result.problems)).toEqual(['apiMigrations.context-qsh']);
    expect(result.fatal).toBe(false);
    expect(errors(checkDescriptor(descriptor({ apiMigrations: undefined })).problems)).toHaveLength(1);
  });

  it('checks scopes against the product, case-insensitively', () => {
    expect(checkDescriptor(descriptor({ scopes: ['read', 'WRITE', 'ACT_AS_USER', 'PROJECT_ADMIN'] })).problems).toEqual([]);
    expect(errors(checkDescriptor(descriptor({ scopes: ['READ', 'SPACE_ADMIN'] }), { product: 'jira' }).problems)).toEqual([
      'scopes[1]: "SPACE_ADMIN" is not a Jira scope (it is a Confluence scope); valid: READ, WRITE, DELETE, ADMIN, ACT_AS_USER, ACCESS_EMAIL_ADDRESSES, PROJECT_ADMIN.',
    ]);
    expect(errors(checkDescriptor(descriptor({ scopes: ['FOO'] })).problems)[0]).toMatch(/^scopes\[0\]: "FOO" is not a Jira scope; valid: /);
    expect(errors(checkDescriptor(descriptor({ scopes: 'READ' })).problems)).toEqual(['scopes: "scopes" must be an array of scope names.']);
  });

  it('requires unique, well-formed module keys', () => {
    const result = checkDescriptor(
      descriptor({
        modules: {
          generalPages: [{ key: 'hello', url: '/a', location: 'system.top.navigation.bar' }],
          webPanels: [{ key: 'hello', url: '/b', location: 'atl.jira.view.issue.right.context' }, { key: 'bad key', url: '/c' }, { url: '/d' }],
        },
      }),
    );
    expect(errors(result.problems)).toEqual([
      'modules.webPanels[0].key: The module key "hello" is used twice (also by modules.generalPages[0]); module keys must be unique in a descriptor.',
      'modules.webPanels[1].key: The module key "bad key" may only contain letters, digits and dashes.',
      'modules.webPanels[2].key: The module has no "key".',
    ]);
  });

  it('flags module URLs on another origin, but lets web items link anywhere', () => {
    const result = checkDescriptor(
      descriptor({
        modules: {
          generalPages: [{ key: 'a', url: 'https://other.example/page' }],
          webItems: [{ key: 'b', url: 'https://docs.example.com/help', location: 'system.top.navigation.bar' }],
          jiraIssueGlances: [{ key: 'c', target: { type: 'web_panel', url: 'https://app.example.com/jira/glance' } }],
          webhooks: [{ event: 'jira:issue_created', url: 'https://other.example/hook' }, { url: '/x' }],
        },
      }),
    );
    expect(errors(result.problems)).toEqual([
      'modules.generalPages[0].url: "https://other.example/page" points to another origin (https://other.example) than the baseUrl (https://app.example.com): the product would send signed requests there.',
      'modules.jiraIssueGlances[0].target.url: "https://app.example.com/jira/glance" is absolute; write it relative to the baseUrl (starting with "/").',
      'modules.webhooks[0].url: "https://other.example/hook" points to another origin (https://other.example) than the baseUrl (https://app.example.com): the product would send signed requests there.',
      'modules.webhooks[1].event: The webhook has no "event".',
    ]);
  });

  it('lets --product win over the guess and flags modules of the other product', () => {
    const confluence = descriptor({ modules: { staticContentMacros: [{ key: 'm', url: '/macro' }] } });
    expect(checkDescriptor(confluence)).toMatchObject({ product: 'confluence', productSource: 'descriptor', productHints: ['module type staticContentMacros'] });
    const forced = checkDescriptor(confluence, { product: 'jira' });
    expect(forced).toMatchObject({ product: 'jira', productSource: 'option', productHints: [] });
    expect(errors(forced.problems)).toEqual(['modules.staticContentMacros: staticContentMacros is a Confluence module; a Jira site does not know it.']);
  });

  it('falls back to Jira with a warning, and reports descriptors mixing both products', () => {
    const unknown = checkDescriptor(descriptor({ key: 'com.example.app', baseUrl: 'https://app.example.com', modules: {} }));
    expect(unknown).toMatchObject({ product: 'jira', productSource: 'fallback' });
    expect(warnings(unknown.problems)).toEqual(['(product)']);
    const mixed = checkDescriptor(descriptor({ modules: { jiraIssueGlances: [{ key: 'g', target: { url: '/g' } }], dynamicContentMacros: [{ key: 'm', url: '/m' }] } }));
    expect(errors(mixed.problems)[0]).toMatch(/^modules: The descriptor has modules of both Jira and Confluence/);
  });
});

describe('guessProduct', () => {
  it.each<[string, Record<string, unknown>, string | undefined]>([
    ['a Jira module type', { modules: { jiraProjectPages: [{}] } }, 'jira'],
    ['a Confluence module type', { modules: { dynamicContentMacros: [{}] } }, 'confluence'],
    ['PROJECT_ADMIN', { scopes: ['project_admin'] }, 'jira'],
    ['SPACE_ADMIN', { scopes: ['SPACE_ADMIN'] }, 'confluence'],
    ['a Jira webhook', { modules: { webhooks: [{ event: 'jira:issue_updated', url: '/h' }] } }, 'jira'],
    ['a Confluence webhook', { modules: { webhooks: [{ event: 'page_created', url: '/h' }] } }, 'confluence'],
    ['a Confluence location', { modules: { generalPages: [{ location: 'system.header/left' }] } }, 'confluence'],
    ['the word confluence in the baseUrl', { baseUrl: 'https://x.example/confluence' }, 'confluence'],
    ['nothing', { baseUrl: 'https://x.example' }, undefined],
  ])('%s', (_name, input, product) => {
    expect(guessProduct(input).product).toBe(product);
  });
});

describe('moduleUrlProblem', () => {
  const base = new URL('https://app.example.com/jira');
  it('accepts relative URLs and refuses the rest', () => {
    expect(moduleUrlProblem('/page?x={issue.key}', base)).toBeUndefined();
    expect(moduleUrlProblem('//other.example/x', base)).toMatch(/protocol-relative/);
    expect(moduleUrlProblem('page', base)).toMatch(/must be relative to the baseUrl/);
  });
});
