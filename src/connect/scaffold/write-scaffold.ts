import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, realpath, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ScaffoldFile } from './scaffold-model.js';

/** The target cannot take a new project (a usage error: nothing was written). */
export class ScaffoldTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScaffoldTargetError';
  }
}

/** Where a project will be written: the real path, and whether it exists already (as an empty directory). */
export interface ScaffoldTarget {
  directory: string;
  exists: boolean;
}

/**
 * Checks that `directory` can take a new project without touching anything: it does not exist (and its
 * nearest existing ancestor is a directory), or it is an empty directory. Throws {@link ScaffoldTargetError}.
 */
export async function checkScaffoldTarget(directory: string, shownAs: string = directory): Promise<ScaffoldTarget> {
  const info = await lstatOrUndefined(directory);
  if (info === undefined) {
    let ancestor = dirname(directory);
    for (;;) {
      const found = await statOrUndefined(ancestor);
      if (found !== undefined) {
        if (!found.isDirectory()) throw new ScaffoldTargetError(`Cannot create ${shownAs}: ${ancestor} is not a directory.`);
        return { directory, exists: false };
      }
      const up = dirname(ancestor);
      if (up === ancestor) throw new ScaffoldTargetError(`Cannot create ${shownAs}: no parent directory exists.`);
      ancestor = up;
    }
  }
  const real = info.isSymbolicLink() ? await realpath(directory).catch(() => undefined) : directory;
  const target = real === undefined ? undefined : await statOrUndefined(real);
  if (real === undefined || target === undefined) throw new ScaffoldTargetError(`${shownAs} is a broken symbolic link.`);
  if (!target.isDirectory()) throw new ScaffoldTargetError(`${shownAs} exists and is not a directory.`);
  const entries = await readdir(real);
  if (entries.length > 0) {
    const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', …' : '');
    throw new ScaffoldTargetError(`${shownAs} is not empty (${shown}); choose a new directory or empty this one.`);
  }
  return { directory: real, exists: true };
}

/**
 * Writes the project into a temporary directory next to the target and renames it into place (or, for an
 * existing empty target, its entries into it), so that either the whole project appears or nothing does.
 * The target must have passed {@link checkScaffoldTarget}.
 */
export async function writeScaffold(target: ScaffoldTarget, files: readonly ScaffoldFile[]): Promise<void> {
  const parent = dirname(target.directory);
  const createdParent = await mkdir(parent, { recursive: true });
  const temporary = join(parent, `.${basename(target.directory)}.new-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(temporary);
    for (const { path, contents } of files) {
      const destination = join(temporary, ...path.split('/'));
      await mkdir(dirname(destination), { recursive: true });
      await writeFile(destination, contents, { flag: 'wx' });
    }
    await moveIntoPlace(temporary, target);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true }).catch(() => undefined);
    if (createdParent !== undefined) await removeEmptyDirectories(parent, createdParent);
    throw error;
  }
}

async function moveIntoPlace(temporary: string, target: ScaffoldTarget): Promise<void> {
  if (!target.exists) {
    await rename(temporary, target.directory);
    return;
  }
  // Keep the existing empty directory itself (a shell may be in it: `new .`) and move the entries in.
  const remaining = await readdir(target.directory);
  if (remaining.length > 0) throw new ScaffoldTargetError(`${target.directory} is no longer empty (${remaining.slice(0, 3).join(', ')}).`);
  const moved: string[] = [];
  try {
    for (const entry of await readdir(temporary)) {
      await rename(join(temporary, entry), join(target.directory, entry));
      moved.push(entry);
    }
  } catch (error) {
    for (const entry of moved) await rm(join(target.directory, entry), { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
  await rmdir(temporary);
}

/** Removes `from` and its parents up to and including `upTo` (an ancestor of `from`), as long as they are empty. */
async function removeEmptyDirectories(from: string, upTo: string): Promise<void> {
  for (let current = from; ; current = dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    if (current === upTo || dirname(current) === current) return;
  }
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
