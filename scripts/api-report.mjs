// The public API report: API Extractor reads the built declarations of the package's entry points (its
// `exports`) and writes what each exports (every signature, every option, every type they name) to
// api/<entry>.api.md. Those files are checked in, so a change to the public surface shows in review.
//
//   node scripts/api-report.mjs          rewrite api/*.api.md from dist/ (after npm run build)
//   node scripts/api-report.mjs --check  fail, naming the entry points, when dist/ differs from api/
//   --declarations-root <dir>            read <dir>/dist/… instead of the repo's dist/ (its test uses it)
//
// It also fails when a signature names a type that no entry point exports: apps could not name it.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root); // API Extractor resolves `types` and report locations from the working directory
const args = process.argv.slice(2);
const check = args.includes('--check');
const rootFlag = args.indexOf('--declarations-root');
const declarationsRoot = rootFlag === -1 ? root : resolve(args[rootFlag + 1] ?? '.');
const reportFolder = join(root, 'api');
const workFolder = join(declarationsRoot === root ? join(root, '.scratch') : declarationsRoot, 'api-report');

const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const entryPoints = Object.entries(packageJson.exports).map(([subpath, target]) => ({
  subpath,
  types: target.types,
  report: subpath === '.' ? 'index' : subpath.slice(2).replaceAll('/', '-'),
}));

const silent = { logLevel: ExtractorLogLevel.None };
const messages = {
  compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
  extractorMessageReporting: {
    default: { logLevel: ExtractorLogLevel.Warning, addToApiReportFile: true },
    // Release tags (@public, @beta) are not used here; undocumented members are marked inline anyway.
    'ae-missing-release-tag': { ...silent, addToApiReportFile: false },
    'ae-undocumented': { ...silent, addToApiReportFile: false },
    // Kept in the report (so they show in review) and checked below across all entry points.
    'ae-forgotten-export': { ...silent, addToApiReportFile: true },
    'ae-unresolved-link': { ...silent, addToApiReportFile: true },
  },
  tsdocMessageReporting: { default: { ...silent, addToApiReportFile: false } },
};

/** API Extractor's report of one entry point, with file locations relative to the declarations root. */
function extract(entry) {
  const declarations = join(declarationsRoot, entry.types);
  if (!existsSync(declarations)) {
    console.error(`${relative(root, declarations)} is missing: run npm run build first.`);
    process.exit(2);
  }
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: declarationsRoot,
      mainEntryPointFilePath: declarations,
      bundledPackages: [],
      compiler: {
        overrideTsconfig: {
          compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], types: ['node'], strict: true, skipLibCheck: true },
          files: [declarations],
        },
      },
      apiReport: { enabled: true, reportFileName: `${entry.report}.api.md`, reportFolder: workFolder, reportTempFolder: join(workFolder, 'temp') },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      newlineKind: 'lf',
      messages,
    },
    configObjectFullPath: join(declarationsRoot, `${entry.report}.api-extractor.json`),
    packageJsonFullPath: join(root, 'package.json'),
  });
  let problems = 0;
  const result = Extractor.invoke(config, {
    localBuild: true,
    messageCallback: (message) => {
      message.handled = true;
      if (message.messageId.startsWith('console-')) return; // its own notes about report files
      if (message.logLevel === ExtractorLogLevel.Warning || message.logLevel === ExtractorLogLevel.Error) {
        problems += 1;
        console.error(`${entry.subpath}: ${message.formatMessageWithLocation(declarationsRoot)}`);
      }
    },
  });
  if (!result.succeeded || problems > 0) {
    console.error(`${entry.subpath}: API Extractor reported ${result.errorCount} errors and ${result.warningCount} warnings.`);
    process.exit(1);
  }
  // Locations in the footer are relative to the working directory; make them the same from anywhere.
  const dist = entry.types.replace(/^\.\//, '').split('/')[0];
  return readFileSync(join(workFolder, `${entry.report}.api.md`), 'utf8').replace(new RegExp(`^// \\S*?(${dist}/)`, 'gm'), '// $1');
}

rmSync(workFolder, { recursive: true, force: true });
mkdirSync(workFolder, { recursive: true });
const reports = entryPoints.map((entry) => ({ ...entry, text: extract(entry) }));

// API Extractor looks at one entry point at a time, so a type that one entry point names and another
// exports (TenantStore in ./advanced, exported by '.') is "forgotten" there. That is fine; a type no
// entry point exports is not. Globals (CryptoKey) need no export.
const exported = new Set();
for (const { text } of reports) {
  for (const match of text.matchAll(/^export (?:declare )?(?:abstract )?(?:class|interface|type|function|const|enum|namespace) (\w+)/gm)) exported.add(match[1]);
}
const unnamed = new Set();
for (const { subpath, text } of reports) {
  for (const match of text.matchAll(/\(ae-forgotten-export\) The symbol "(\w+?)(?:_\d+)?" needs/g)) {
    if (!exported.has(match[1]) && !(match[1] in globalThis)) unnamed.add(`${match[1]} (in ${subpath})`);
  }
}
if (unnamed.size > 0) {
  console.error(`The public API names types that no entry point exports: ${[...unnamed].join(', ')}. Export them (as types) where they belong.`);
  process.exit(1);
}

const changed = reports.filter(({ report, text }) => {
  const file = join(reportFolder, `${report}.api.md`);
  return !existsSync(file) || readFileSync(file, 'utf8') !== text;
});
if (check) {
  if (changed.length > 0) {
    console.error(`The public API changed: ${changed.map((r) => `${r.subpath} (api/${r.report}.api.md)`).join(', ')}.`);
    console.error(`The new reports are in ${relative(root, workFolder)}/. If the change is meant, run npm run api and commit api/ with it.`);
    process.exit(1);
  }
  console.log(`API report up to date: ${reports.map((r) => r.subpath).join(', ')}`);
} else {
  mkdirSync(reportFolder, { recursive: true });
  for (const { report, text } of changed) writeFileSync(join(reportFolder, `${report}.api.md`), text);
  console.log(changed.length === 0 ? 'API report unchanged.' : `Updated ${changed.map((r) => `api/${r.report}.api.md`).join(', ')}.`);
}
