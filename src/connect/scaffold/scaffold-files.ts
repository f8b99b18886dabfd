import type { ScaffoldVersions } from './framework-manifest.js';
import type { ScaffoldOptions } from './scaffold-options.js';
import type { ScaffoldFile, ScaffoldModel } from './scaffold-model.js';
import { projectFiles } from './templates/project-files.js';
import { readmeFile } from './templates/readme.js';
import { sourceFiles } from './templates/source-files.js';
import { testFiles } from './templates/test-files.js';

/**
 * The files of a new app for `options`, pinned to `versions` (from `scaffoldVersions()` for the same
 * adapter): pure, nothing is written. Paths are
 * POSIX, relative to the project root, in a stable order.
 */
export function scaffoldFiles(options: ScaffoldOptions, versions: ScaffoldVersions): ScaffoldFile[] {
  if (versions.adapter !== options.adapter) throw new Error(`The versions are for the ${versions.adapter} adapter, the options for ${options.adapter}.`);
  const model: ScaffoldModel = { ...options, versions, frameworkDependency: options.frameworkSpec ?? `^${versions.framework}` };
  const files = [...projectFiles(model), readmeFile(model), ...sourceFiles(model), ...testFiles(model)];
  const seen = new Set<string>();
  for (const { path } of files) {
    if (path.startsWith('/') || path.split('/').some((part) => part === '' || part === '.' || part === '..')) throw new Error(`Bad scaffold path ${JSON.stringify(path)}.`);
    if (seen.has(path)) throw new Error(`Scaffold path ${JSON.stringify(path)} is generated twice.`);
    seen.add(path);
  }
  return files;
}
