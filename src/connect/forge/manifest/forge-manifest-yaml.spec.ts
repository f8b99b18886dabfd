import fc from 'fast-check';
import { toForgeManifestYaml } from './forge-manifest-yaml.js';
import { ManifestYamlError, readForgeManifestYaml } from './read-forge-manifest-yaml.js';

describe('toForgeManifestYaml / readForgeManifestYaml', () => {
  it('quotes every string, so nothing reads back as a number, boolean, null or YAML syntax', () => {
    const tricky = [
      'true',
      'no',
      '1.0',
      '0x1f',
      'null',
      '~',
      '',
      ' lead',
      'a: b',
      '- x',
      '#c',
      '&a',
      '*a',
      '!t',
      '|',
      '"q"',
      "it's",
      'line\nbreak',
      'tab\t',
      '\u007f\u0085\u2028',
      'é 日本',
    ];
    const data = { values: tricky, 'jira:generalPages': [{ key: 'k', n: 1, ok: false, none: null, empty: [], obj: {} }], 'weird key: x': 'v' };
    const yaml = toForgeManifestYaml(data);
    expect(yaml).toContain('jira:generalPages:\n');
    expect(yaml).toContain('"weird key: x": "v"');
    expect(readForgeManifestYaml(yaml)).toEqual(data);
  });

  it('round-trips any JSON-like data', () => {
    const key = fc.string({ minLength: 1, maxLength: 8 });
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(key, tie('node'), { maxKeys: 3 }),
      ),
    }));
    fc.assert(
      fc.property(fc.dictionary(key, tree.node, { minKeys: 1, maxKeys: 4 }), (data) => {
        expect(readForgeManifestYaml(toForgeManifestYaml(data))).toEqual(data);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what is not JSON-like data, and a manifest over Forge’s 200 KB', () => {
    expect(() => toForgeManifestYaml({ a: Number.NaN })).toThrow(TypeError);
    expect(() => toForgeManifestYaml({ a: new Date() })).toThrow(TypeError);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => toForgeManifestYaml(loop)).toThrow('refers to itself');
    expect(() => toForgeManifestYaml({ big: 'x'.repeat(210 * 1024) })).toThrow(RangeError);
  });

  it('reads hand-written manifests: flow collections, plain and single-quoted scalars, comments', () => {
    const text = [
      '# manifest',
      'modules:',
      '  trigger:',
      '    - { key: issue-events, endpoint: events, events: [avi:jira:created:issue, avi:forge:installed:app] }',
      '  endpoint:',
      '  - key: events   # a comment',
      "    route: { path: '/jira/forge/events' }",
      'app:',
      '  id: ari:cloud:ecosystem::app/x',
      '  licensing: { enabled: true }',
    ].join('\n');
    expect(readForgeManifestYaml(text)).toEqual({
      modules: {
        trigger: [{ key: 'issue-events', endpoint: 'events', events: ['avi:jira:created:issue', 'avi:forge:installed:app'] }],
        endpoint: [{ key: 'events', route: { path: '/jira/forge/events' } }],
      },
      app: { id: 'ari:cloud:ecosystem::app/x', licensing: { enabled: true } },
    });
  });

  it.each([
    ['an anchor', 'a: &x 1'],
    ['a block scalar', 'a: |\n  text'],
    ['two documents', 'a: 1\n---\nb: 2'],
    ['a repeated key', 'a: 1\na: 2'],
    ['bad indentation', 'a:\n  b: 1\n    c: 2'],
    ['an unterminated string', 'a: "open'],
  ])('refuses %s with a ManifestYamlError', (_what, text) => {
    expect(() => readForgeManifestYaml(text)).toThrow(ManifestYamlError);
  });
});
