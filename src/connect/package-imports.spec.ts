import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import ts from 'typescript';

// What the published framework (everything under src/connect but the specs) may import: its own
// dependencies and its required peers. The optional peers are loaded with `import()` of a name held in a
// variable (config/optional-peers.ts), never named in an import, not even a type-only one, so that an
// app without them loads the framework and type-checks against its declarations.

const MANIFEST = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
const OPTIONAL = Object.keys(MANIFEST.peerDependenciesMeta).filter((name) => MANIFEST.peerDependenciesMeta[name]?.optional === true);
const REQUIRED = [...Object.keys(MANIFEST.dependencies), ...Object.keys(MANIFEST.peerDependencies).filter((name) => !OPTIONAL.includes(name))];

interface PackageImport {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

/** Every import, export-from and `import('literal')` of a package (not a relative path, not a Node built-in) in the framework's modules. */
function packageImports(): PackageImport[] {
  const root = new URL('./', import.meta.url);
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((path) => path.endsWith('.ts') && !path.endsWith('.spec.ts'));
  const found: PackageImport[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(new URL(file, root), 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node): void => {
      let specifier: ts.Expression | undefined;
      let typeOnly = false;
      if (ts.isImportDeclaration(node)) {
        specifier = node.moduleSpecifier;
        typeOnly = node.importClause?.isTypeOnly === true;
      } else if (ts.isExportDeclaration(node)) {
        specifier = node.moduleSpecifier;
        typeOnly = node.isTypeOnly;
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        specifier = node.arguments[0];
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
        specifier = node.argument.literal;
        typeOnly = true;
      }
      if (specifier !== undefined && ts.isStringLiteralLike(specifier) && !specifier.text.startsWith('.') && !isBuiltin(specifier.text)) {
        found.push({ file, specifier: specifier.text, typeOnly });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

describe('the framework imports only what its package.json promises', () => {
  const imports = packageImports();

  it('finds the imports it checks (the scan works)', () => {
    expect(imports.filter((i) => i.specifier === '@nestjs/common').length).toBeGreaterThan(10);
    expect(imports.some((i) => i.specifier === 'jose')).toBe(true);
  });

  it('imports no package but its dependencies and required peers', () => {
    expect(imports.filter((i) => !REQUIRED.includes(packageOf(i.specifier))).map((i) => `${i.file}: ${i.specifier}`)).toEqual([]);
  });

  it('names no optional peer in an import, type-only ones included', () => {
    expect(OPTIONAL.sort()).toEqual(['@electric-sql/pglite', '@electric-sql/pglite-socket', '@nestjs/schedule']);
    expect(imports.filter((i) => OPTIONAL.includes(packageOf(i.specifier))).map((i) => `${i.file}: ${i.specifier}${i.typeOnly ? ' (type)' : ''}`)).toEqual([]);
  });

  it('depends on neither HTTP adapter nor on cron directly', () => {
    for (const name of ['@nestjs/platform-express', '@nestjs/platform-fastify', 'cron']) {
      expect([name, MANIFEST.dependencies[name], MANIFEST.peerDependencies[name]]).toEqual([name, undefined, undefined]);
    }
  });
});
