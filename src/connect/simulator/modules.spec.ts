import { queryStringHash } from '../auth/jwt/canonical-request.js';
import { contextParameters, discoverModules, fillVariables, sampleWebhookBody, SAMPLE_CONTEXT, withQuery } from './modules.js';
import { formatTable } from './table.js';

describe('discoverModules', () => {
  it('finds Confluence pages, macros (variables and parameters filled in) and webhooks below the baseUrl path', () => {
    const modules = discoverModules(
      {
        baseUrl: 'https://app.example.com/confluence/',
        modules: {
          generalPages: [{ key: 'hello', url: '/pages/hello' }],
          staticContentMacros: [
            { key: 'macro', url: '/macros/hello?pageId={page.id}&space={space.key}&colour={colour}&x={nope}', parameters: [{ identifier: 'colour', defaultValue: 'red' }] },
          ],
          dynamicContentMacros: [{ key: 'dyn', url: '/macros/dyn?p={param}', parameters: [{ identifier: 'param' }] }],
          webhooks: [{ event: 'page_created', url: '/hooks/page?id={page.id}' }],
          webItems: [
            { key: 'dialog-item', url: '/dialog', target: { type: 'dialog' } },
            { key: 'link', url: '/link' },
          ],
          jiraIssueGlances: [{ key: 'glance', target: { url: '/glance' } }],
          adminPages: [{ key: 'external', url: 'https://elsewhere.example/admin' }],
        },
      },
      'confluence',
    );
    expect(modules.map((m) => [m.kind, m.type, m.key, m.method, m.path])).toEqual([
      ['page', 'generalPages', 'hello', 'GET', '/confluence/pages/hello'],
      ['page', 'staticContentMacros', 'macro', 'GET', `/confluence/macros/hello?pageId=${SAMPLE_CONTEXT.confluence['page.id']}&space=DS&colour=red&x=`],
      ['page', 'dynamicContentMacros', 'dyn', 'GET', '/confluence/macros/dyn?p=sample'],
      ['webhook', 'webhooks', 'page_created', 'POST', `/confluence/hooks/page?id=${SAMPLE_CONTEXT.confluence['page.id']}`],
      ['page', 'webItems', 'dialog-item', 'GET', '/confluence/dialog'],
    ]);
    expect(modules[1]!.unknownVariables).toEqual(['nope']);
    expect(modules[3]!.event).toBe('page_created');
  });

  it('finds Jira modules with target.url and skips Confluence ones', () => {
    const modules = discoverModules(
      {
        baseUrl: 'https://app.example.com',
        modules: {
          jiraIssueGlances: [{ key: 'glance', target: { type: 'web_panel', url: '/glance?issue={issue.key}' } }],
          jiraProjectPages: [{ key: 'project', url: '/project/{project.key}' }],
          configurePage: { key: 'configure', url: '/configure' },
          staticContentMacros: [{ key: 'macro', url: '/macro' }],
        },
      },
      'jira',
    );
    expect(modules.map((m) => m.path)).toEqual(['/glance?issue=DEMO-1', '/project/DEMO', '/configure']);
  });
});

describe('context parameters', () => {
  it('adds what the product adds to an iframe URL, and the qsh covers them', () => {
    const params = contextParameters({ baseUrl: 'http://127.0.0.1:4000/wiki' }, 'com.example.app', 'hello', false);
    expect(Object.fromEntries(params)).toEqual({
      xdm_e: 'http://127.0.0.1:4000',
      xdm_c: 'channel-com.example.app__hello',
      cp: '/wiki',
      lic: 'none',
      cv: '1001.0.0-SNAPSHOT',
      tz: 'UTC',
      loc: 'en-US',
    });
    expect(Object.fromEntries(contextParameters({ baseUrl: 'http://127.0.0.1:4000' }, 'a', 'b', true))).toMatchObject({ cp: '', lic: 'active' });
    const url = withQuery('/confluence/macro?pageId=1', [
      ['xdm_e', 'http://x'],
      ['cp', '/wiki'],
    ]);
    expect(url).toBe('/confluence/macro?pageId=1&xdm_e=http%3A%2F%2Fx&cp=%2Fwiki');
    expect(queryStringHash('GET', url, 'https://app.example.com/confluence')).toBe(queryStringHash('GET', '/macro?cp=/wiki&pageId=1&xdm_e=http://x'));
    expect(withQuery('/a', [])).toBe('/a');
  });

  it('fills variables URL-encoded and leaves unknown ones empty', () => {
    expect(fillVariables('/p?t={page.title}&u={x.y}', { 'page.title': 'A & B' })).toEqual({ url: '/p?t=A%20%26%20B&u=', unknown: ['x.y'] });
  });

  it('makes webhook bodies shaped like the product', () => {
    expect(sampleWebhookBody('jira:issue_created', 'jira', 'http://site')).toMatchObject({
      webhookEvent: 'jira:issue_created',
      issue_event_type_name: 'issue_created',
      issue: { key: 'DEMO-1' },
    });
    expect(sampleWebhookBody('page_created', 'confluence', 'http://site/wiki')).toMatchObject({ userAccountId: expect.any(String), page: { spaceKey: 'DS' } });
  });
});

describe('formatTable', () => {
  it('aligns columns and spells out problems', () => {
    expect(
      formatTable([
        { step: 'descriptor (GET)', status: 200, ms: 12.4, ok: true },
        { step: 'page generalPages/hello', status: 404, ms: 3, ok: false, problem: 'GET /pages/hello answered 404 (no route for this URL); expected 200' },
        { step: 'x'.repeat(60), ok: true, problem: 'warning: something' },
      ]),
    ).toEqual([
      'STEP                                          HTTP  MS  RESULT',
      'descriptor (GET)                               200  12  ok',
      'page generalPages/hello                        404   3  FAIL: GET /pages/hello answered 404 (no route for this URL); expected 200',
      `${'x'.repeat(43)}…     -   -  ok (warning: something)`,
    ]);
  });
});
