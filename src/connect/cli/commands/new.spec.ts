import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { readFrameworkManifest, scaffoldVersions } from '../../scaffold/framework-manifest.js';
import { scaffoldFiles } from '../../scaffold/scaffold-files.js';
import { resolveScaffoldOptions } from '../../scaffold/scaffold-options.js';
import { checkScaffoldTarget, writeScaffold } from '../../scaffold/write-scaffold.js';
import type { CliIo } from '../cli-io.js';
import { newApp } from './new.js';

function captureIo(): CliIo & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { outLines, errLines, out: (line) => outLines.push(line), err: (line) => errLines.push(line), stopped: new Promise(() => undefined) };
}

/** Every file and directory under `dir`, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

describe('new command', () => {
  let work: string;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'acn-new-spec-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('prints the help', async () => {
    const io = captureIo();
    expect(await newApp(['--help'], io)).toBe(0);
    const help = io.outLines.join('\n');
    expect(help).toContain('Usage: atlassian-connect-nest new <directory> [options]');
    expect(help).toContain('--products <list>');
    expect(help).toContain('--key-prefix <prefix>');
    expect(help).toContain('--adapter <name>         the Nest HTTP adapter the app runs on: fastify (the default;');
    expect(help).toContain('or express');
    expect(help).not.toContain('--framework-spec');
  });

  it('writes the whole project and says what to do next', async () => {
    const io = captureIo();
    const dir = join(work, 'nested', 'my-app');
    expect(await newApp([dir, '--products', 'jira,confluence', '--name', 'My App', '--key-prefix', 'com.example.myapp'], io)).toBe(0);
    const expected = scaffoldFiles(
      resolveScaffoldOptions({ directory: dir, name: 'My App', keyPrefix: 'com.example.myapp' }, work),
      scaffoldVersions(readFrameworkManifest(), 'fastify'),
    );
    const written = (await tree(dir)).filter((path) => expected.some((f) => f.path === path));
    expect(written.sort()).toEqual(expected.map((f) => f.path).sort());
    for (const f of expected) expect(await readFile(join(dir, f.path), 'utf8')).toBe(f.contents);
    // the framework's peers, optional ones included, and the Fastify adapter (the default): nothing the framework brings itself (jose), no cron
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).toEqual([
      '@electric-sql/pglite',
      '@electric-sql/pglite-socket',
      '@nestjs/common',
      '@nestjs/core',
      '@nestjs/platform-fastify',
      '@nestjs/schedule',
      '@nestjs/typeorm',
      'atlassian-connect-nest',
      'pg',
      'reflect-metadata',
      'rxjs',
      'typeorm',
    ]);
    // no temporary directory left next to it
    expect(await readdir(join(work, 'nested'))).toEqual(['my-app']);
    const out = io.outLines.join('\n');
    expect(out).toContain(`Created My App in ${dir} (${expected.length} files, on Fastify)`);
    expect(out).toContain('com.example.myapp.jira');
    expect(out).toContain('com.example.myapp.confluence');
    expect(out).toContain('npm install && npm start');
    expect(io.errLines).toEqual([]);
  });

  it('--adapter express: writes the Express variant, with the Express adapter only', async () => {
    const io = captureIo();
    const dir = join(work, 'on-express');
    expect(await newApp([dir, '--adapter', 'express', '--products', 'jira'], io)).toBe(0);
    const expected = scaffoldFiles(resolveScaffoldOptions({ directory: dir, products: 'jira', adapter: 'express' }, work), scaffoldVersions(readFrameworkManifest(), 'express'));
    for (const f of expected) expect(await readFile(join(dir, f.path), 'utf8')).toBe(f.contents);
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies).filter((name) => name.startsWith('@nestjs/platform-'))).toEqual(['@nestjs/platform-express']);
    expect(await readFile(join(dir, 'src/main.ts'), 'utf8')).toContain('tuneHttpAdapter(new ExpressAdapter())');
    expect(io.outLines[0]).toBe(`Created On Express in ${dir} (${expected.length} files, on Express):`);
  });

  it('writes into an existing empty directory, keeping the directory itself (`new .`)', async () => {
    const dir = join(work, 'empty');
    await mkdir(dir);
    const inode = (await stat(dir)).ino;
    const io = captureIo();
    expect(await newApp([dir, '--products', 'confluence'], io)).toBe(0);
    expect(await readdir(join(dir, 'src'))).toEqual(expect.arrayContaining(['confluence', 'app.module.ts']));
    expect(await readdir(join(dir, 'src'))).not.toContain('jira');
    expect((await stat(dir)).ino).toBe(inode);
    expect(await readdir(work)).toEqual(['empty']);
  });

  it.each<[string, (dir: string) => string[], string]>([
    ['an unknown product', (dir) => [dir, '--products', 'jira,trello'], 'new: Unknown product "trello" in --products'],
    ['an empty product list', (dir) => [dir, '--products', ''], 'new: --products needs at least one of jira, confluence'],
    ['an invalid name', (dir) => [dir, '--name', 'Two\nLines'], 'new: The app name "Two\\nLines" contains control characters'],
    ['an invalid key prefix', (dir) => [dir, '--key-prefix', 'com.example/app'], 'new: The key prefix "com.example/app" is not valid'],
    ['a key prefix making keys too long', (dir) => [dir, '--key-prefix', 'x'.repeat(54)], 'app keys have at most 64 characters'],
    ['an unsupported package manager', (dir) => [dir, '--package-manager', 'yarn'], 'new: --package-manager "yarn" is not supported'],
    ['an unknown adapter', (dir) => [dir, '--adapter', 'koa'], 'new: --adapter "koa" is not supported; use fastify or express.'],
    ['an adapter without its value', (dir) => [dir, '--adapter'], "new: Option '--adapter <value>' argument missing"],
    ['an unknown option', (dir) => [dir, '--template', 'x'], "new: Unknown option '--template'"],
    ['no directory', () => [], 'new: Name the directory to create'],
    ['two directories', (dir) => [dir, `${dir}-2`], 'new: One directory only'],
  ])('refuses %s with exit code 2 and writes nothing', async (_what, args, message) => {
    const dir = join(work, 'parent', 'app');
    const io = captureIo();
    expect(await newApp(args(dir), io)).toBe(2);
    expect(io.errLines[0]).toContain(message);
    expect(io.errLines.at(-1)).toBe('Run `atlassian-connect-nest new --help` for the options.');
    expect(io.outLines).toEqual([]);
    expect(await tree(work)).toEqual([]);
  });

  it('refuses a directory that is not empty, and leaves it as it was', async () => {
    const dir = join(work, 'busy');
    await mkdir(join(dir, 'src'), { recursive: true });
    await writeFile(join(dir, 'package.json'), '{"name":"mine"}');
    const io = captureIo();
    expect(await newApp([dir], io)).toBe(2);
    expect(io.errLines).toEqual([`new: ${dir} is not empty (package.json, src); choose a new directory or empty this one.`, 'new: Nothing was written.']);
    expect(await tree(work)).toEqual(['busy', 'busy/package.json', 'busy/src']);
    expect(await readFile(join(dir, 'package.json'), 'utf8')).toBe('{"name":"mine"}');
  });

  it('refuses a file in the way, itself or as a parent', async () => {
    await writeFile(join(work, 'file'), 'x');
    const io = captureIo();
    expect(await newApp([join(work, 'file')], io)).toBe(2);
    expect(io.errLines[0]).toBe(`new: ${join(work, 'file')} exists and is not a directory.`);
    const nested = captureIo();
    expect(await newApp([join(work, 'file', 'sub', 'app')], nested)).toBe(2);
    expect(nested.errLines[0]).toBe(`new: Cannot create ${join(work, 'file', 'sub', 'app')}: ${join(work, 'file')} is not a directory.`);
    expect(await tree(work)).toEqual(['file']);
  });
});

describe('writeScaffold', () => {
  let work: string;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'acn-write-spec-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('leaves nothing behind when writing fails half-way, not even the parents it created', async () => {
    const dir = join(work, 'a', 'b', 'app');
    const target = await checkScaffoldTarget(dir);
    const files = [
      { path: 'one.txt', contents: '1\n' },
      { path: 'one.txt', contents: 'again\n' },
    ];
    await expect(writeScaffold(target, files)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await tree(work)).toEqual([]);
  });

  it('keeps an existing empty target directory when writing fails', async () => {
    const dir = join(work, 'app');
    await mkdir(dir);
    const target = await checkScaffoldTarget(dir);
    expect(target.exists).toBe(true);
    await expect(
      writeScaffold(target, [
        { path: 'x', contents: '' },
        { path: 'x', contents: '' },
      ]),
    ).rejects.toThrow();
    expect(await tree(work)).toEqual(['app']);
  });
});
