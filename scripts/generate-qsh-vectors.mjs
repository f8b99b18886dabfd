#!/usr/bin/env node
// Writes src/connect/auth/jwt/qsh-vectors.json: canonical requests and qsh values computed by the
// atlassian-jwt devDependency, so our canonicaliser is checked against Atlassian's Node package.
// canonical-request.spec.ts requires our canonicaliser to agree with every case written here. Inputs
// where we deliberately differ from that package belong in the hand-written qsh-spec-vectors.json:
// they are skipped here, and the `referenceCanonical` each one records is re-checked, so the list of
// differences cannot go stale. Run from the project root: node scripts/generate-qsh-vectors.mjs
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const jwt = require('atlassian-jwt');
const version = require('atlassian-jwt/package.json').version;
const dir = new URL('../src/connect/auth/jwt/', import.meta.url);

const JIRA = 'https://example.atlassian.net';
const WIKI = 'https://example.atlassian.net/wiki';
const APP = 'https://app.example.com/jira';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJxc2giOiJ4In0.c2ln';
const JQL = 'project%20%3D%20TEST%20AND%20status%20in%20(Open%2C%20%22In%20Progress%22)%20ORDER%20BY%20created%20DESC';
const XDM_E = 'https%3A%2F%2Fexample.atlassian.net';

/** [name, method, url, baseUrl?] */
const inputs = [
  ['simple', 'GET', '/test?param=value'],
  ['lower-case method', 'get', '/test?param=value'],
  ['POST without query', 'POST', '/installed'],
  ['DELETE with query', 'delete', '/items/7?force=true'],
  ['root path', 'GET', '/'],
  ['empty path', 'GET', ''],
  ['path without leading slash', 'GET', 'test?a=1'],
  ['empty query after ?', 'GET', '/test?'],
  ['only separators in query', 'GET', '/test?&&&'],
  ['jwt only', 'GET', `/test?jwt=${TOKEN}`],
  ['jwt first', 'GET', `/test?jwt=${TOKEN}&b=2&a=1`],
  ['jwt in the middle', 'GET', `/test?b=2&jwt=${TOKEN}&a=1`],
  ['jwt repeated', 'GET', `/test?jwt=${TOKEN}&a=1&jwt=other`],
  ['jwt name percent-encoded is still jwt', 'GET', `/test?j%77t=${TOKEN}&a=1`],
  ['JWT in upper case is an ordinary parameter', 'GET', '/test?JWT=x&a=1'],
  ['jwt as a value is kept', 'GET', '/test?name=jwt'],
  ['spaces as plus', 'GET', '/test?q=some+spaces+here'],
  ['spaces as %20', 'GET', '/test?q=some%20spaces%20here'],
  ['encoded plus', 'GET', '/test?q=1+%2B+1'],
  ['asterisk', 'GET', '/test?q=connect*'],
  ['tilde literal', 'GET', '/test?eta=~3'],
  ['tilde encoded', 'GET', '/test?eta=%7E3'],
  ['lower-case hex', 'GET', '/test?q=%e5%ae%ae%2b'],
  ['unicode encoded', 'GET', '/test?director=%E5%AE%AE%E5%B4%8E+%E9%A7%BF'],
  ['unicode literal', 'GET', '/test?director=宮崎 駿'],
  ['astral character encoded', 'GET', '/test?emoji=%F0%9F%98%80'],
  ['astral character literal', 'GET', '/test?emoji=😀'],
  ['reserved characters', 'GET', '/test?r=%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%2F%3F%23%5B%5D%40'],
  ['sub-delims literal in value', 'GET', "/test?r=!$'()*,;:@/?"],
  ['NUL byte', 'GET', '/test?n=%00'],
  ['percent sign encoded', 'GET', '/test?pct=100%25'],
  ['equals sign in value', 'GET', '/test?expr=a==b'],
  ['empty value', 'GET', '/test?notmuch='],
  ['no equals sign', 'GET', '/test?flag'],
  ['mixed flags and values', 'GET', '/test?b&a=&c=3'],
  ['empty name', 'GET', '/test?=x&a=1'],
  ['empty name and value', 'GET', '/test?=&a=1'],
  ['repeated values sorted', 'GET', '/test?ids=20&ids=1&ids=10&ids=2&ids=-1'],
  ['repeated values sort decoded', 'GET', '/test?ids=%3A2&ids=.1&ids=%3A1&ids=.2'],
  ['repeated empty values', 'GET', '/test?c=&c=+&c=%2520&c=%2B'],
  ['repeated without equals', 'GET', '/test?c&c&c=1'],
  ['repeated identical values', 'GET', '/test?a=1&a=1'],
  ['repeated unicode values', 'GET', '/test?v=%C3%A9&v=~&v=z'],
  ['names merge when they decode alike', 'GET', '/test?a%20b=1&a+b=2'],
  ['names sort by code unit', 'GET', '/test?b=1&B=2&a=3&A=4&_=5'],
  ['names needing encoding', 'GET', '/test?a b=1&%231=2&%3A1=3'],
  ['bracketed names are plain names', 'GET', '/test?a[]=2&a[]=1'],
  ['object method names', 'GET', '/test?constructor=1&toString=2&hasOwnProperty=3&valueOf=4'],
  ['question mark in query', 'GET', '/test?next=/a?b=c'],
  ['long JQL', 'GET', `/search?jql=${JQL}&maxResults=50`],
  ['Jira iframe parameters', 'GET', `/panel?xdm_e=${XDM_E}&xdm_c=channel-x&cp=&lic=none&cv=1001.0.0&jwt=${TOKEN}`],
  ['fragment dropped', 'GET', '/test?a=1#frag?b=2'],
  ['fragment on path', 'GET', '/test#x'],
  ['absolute URL', 'GET', 'https://example.com/test?a=1'],
  ['absolute URL with port', 'GET', 'http://localhost:3000/test?a=1'],
  ['absolute URL without path', 'GET', 'https://example.com?a=1'],
  ['trailing slash', 'GET', '/test/?a=1'],
  ['one trailing slash removed of two', 'GET', '/test//'],
  ['double leading slash is a path', 'GET', '//test/x?a=1'],
  ['ampersand in path', 'GET', '/a&b?c=d'],
  ['encoded ampersand in path kept', 'GET', '/a%26b'],
  ['encoded slash in path kept', 'GET', '/a%2Fb/c'],
  ['encoded characters in path kept as received', 'GET', '/caf%C3%A9/%7euser'],
  ['sub-delims in path', 'GET', '/p!$()*+,;=/x'],
  ['path parameter', 'GET', '/a;jsessionid=1/b'],
  ['plus in path is not a space', 'GET', '/a+b'],
  ['unicode literal in path', 'GET', '/café'],
  ['malformed escape kept literally', 'GET', '/test?q=%zz'],
  ['lone percent kept literally', 'GET', '/test?q=100%'],
  ['malformed escape in path kept', 'GET', '/a%zz?x=1'],
  ['space in path', 'GET', '/a b'],
  ['tab in path', 'GET', '/a\tb'],
  ['backslash in path', 'GET', '/a\\b'],
  ['braces, pipe and caret in an absolute URL path', 'GET', 'https://example.com/a{b}|c^d'],
  ['lone escape in path kept', 'GET', '/a%E9'],
  ['truncated UTF-8 in a value', 'GET', '/test?q=%E0%A4'],
  ['overlong UTF-8 in a value', 'GET', '/test?q=%C0%AF'],
  ['encoded surrogate in a value', 'GET', '/test?q=%ED%A0%80'],
  ['invalid UTF-8 in a name', 'GET', '/test?%E0=1'],
  ['Confluence context path', 'GET', '/wiki/rest/api/content?expand=body', WIKI],
  ['Confluence context path, absolute URL', 'GET', `${WIKI}/rest/api/content?expand=body`, WIKI],
  ['context path alone', 'GET', '/wiki', WIKI],
  ['context path with trailing slash', 'GET', '/wiki/?a=1', WIKI],
  ['Jira without context path', 'GET', '/rest/api/3/issue/TEST-1', JIRA],
  ['base URL with trailing slash only', 'GET', '/rest/api/3/myself', `${JIRA}/`],
  ['app context path', 'POST', '/jira/api/x?a=1&jwt=' + TOKEN, APP],
  ['app context path with port', 'GET', '/jira/x', 'http://localhost:8080/jira'],
  ['base URL path with trailing slash', 'GET', '/jira/x', `${APP}/`],
  ['base URL with query', 'GET', '/jira/x', `${APP}?ignored=1`],
  ['other path under a context path base', 'GET', '/other/x?a=1', WIKI],
  ['context path only stripped at the start', 'GET', '/x/wiki/y', WIKI],
  ['context path is case sensitive', 'GET', '/WIKI/x', WIKI],
].map(([name, method, url, baseUrl]) => ({ name, method, url, ...(baseUrl === undefined ? {} : { baseUrl }) }));

function reference(c) {
  try {
    return jwt.createCanonicalRequest(jwt.fromMethodAndUrl(c.method, c.url), false, c.baseUrl);
  } catch (error) {
    return `threw ${error.name}`;
  }
}

const key = (c) => JSON.stringify([c.method, c.url, c.baseUrl ?? null]);
const spec = JSON.parse(fs.readFileSync(new URL('qsh-spec-vectors.json', dir), 'utf8'));
const specKeys = new Set(spec.cases.map(key));

const stale = spec.cases.filter((c) => reference(c) !== c.referenceCanonical);
for (const c of stale) {
  console.error(`qsh-spec-vectors.json "${c.name}": atlassian-jwt now gives ${JSON.stringify(reference(c))}`);
}

const names = new Set();
const cases = [];
for (const c of inputs) {
  if (names.has(c.name)) throw new Error(`duplicate case name: ${c.name}`);
  names.add(c.name);
  if (specKeys.has(key(c))) continue;
  const request = jwt.fromMethodAndUrl(c.method, c.url);
  cases.push({
    ...c,
    canonical: jwt.createCanonicalRequest(request, false, c.baseUrl),
    qsh: jwt.createQueryStringHash(request, false, c.baseUrl),
  });
}

const out = { source: `atlassian-jwt@${version}`, generatedBy: 'scripts/generate-qsh-vectors.mjs', cases };
fs.writeFileSync(new URL('qsh-vectors.json', dir), JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${cases.length} cases; ${spec.cases.length} spec cases checked, ${stale.length} stale`);
process.exit(stale.length ? 1 : 0);
