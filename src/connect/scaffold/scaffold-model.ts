import type { ConnectProduct } from '../config/connect-product.js';
import { HTTP_ADAPTER_PACKAGES, type ScaffoldVersions } from './framework-manifest.js';
import type { ScaffoldApp, ScaffoldHttpAdapter, ScaffoldOptions } from './scaffold-options.js';

/** One generated file: a POSIX path relative to the project root and its text. */
export interface ScaffoldFile {
  path: string;
  contents: string;
}

/** How each product's part of the project is named. */
export interface ProductNames {
  /** "Jira" */
  label: string;
  /** "JiraController" */
  controller: string;
  /** "JIRA_APP_KEY" */
  keyConstant: string;
  /** "jiraDescriptor" */
  descriptorConstant: string;
  /** Where the general page appears in the product's UI. */
  pageLocation: string;
  /** The REST call the generated app makes as the app, relative to the site. */
  apiPath: string;
  /** The generated route that makes that call, relative to the app's baseUrl. */
  apiRoute: string;
}

export const PRODUCT_NAMES: Record<ConnectProduct, ProductNames> = {
  jira: {
    label: 'Jira',
    controller: 'JiraController',
    keyConstant: 'JIRA_APP_KEY',
    descriptorConstant: 'jiraDescriptor',
    pageLocation: 'system.top.navigation.bar',
    apiPath: '/rest/api/3/myself',
    apiRoute: '/api/myself',
  },
  confluence: {
    label: 'Confluence',
    controller: 'ConfluenceController',
    keyConstant: 'CONFLUENCE_APP_KEY',
    descriptorConstant: 'confluenceDescriptor',
    pageLocation: 'system.header/left',
    apiPath: '/rest/api/space',
    apiRoute: '/api/spaces',
  },
};

/** How the generated code names an HTTP adapter. */
export interface AdapterNames {
  /** "Fastify" */
  label: string;
  /** "@nestjs/platform-fastify" */
  packageName: string;
  /** "FastifyAdapter" */
  adapterClass: string;
  /** "NestFastifyApplication": the type `NestFactory.create<…>()` gives the app. */
  applicationType: string;
}

export const ADAPTER_NAMES: Record<ScaffoldHttpAdapter, AdapterNames> = {
  fastify: { label: 'Fastify', packageName: HTTP_ADAPTER_PACKAGES.fastify, adapterClass: 'FastifyAdapter', applicationType: 'NestFastifyApplication' },
  express: { label: 'Express', packageName: HTTP_ADAPTER_PACKAGES.express, adapterClass: 'ExpressAdapter', applicationType: 'NestExpressApplication' },
};

export function adapterNames(model: ScaffoldOptions): AdapterNames {
  return ADAPTER_NAMES[model.adapter];
}

/** The import of the chosen adapter and its application type, in generated code. */
export function adapterImport(model: ScaffoldOptions): string {
  const names = adapterNames(model);
  return `import { ${names.adapterClass}, type ${names.applicationType} } from '${names.packageName}';`;
}

/** Everything the templates read. */
export interface ScaffoldModel extends ScaffoldOptions {
  versions: ScaffoldVersions;
  /** The dependency spec of `atlassian-connect-nest` in the generated package.json. */
  frameworkDependency: string;
}

export function productNames(app: ScaffoldApp): ProductNames {
  return PRODUCT_NAMES[app.product];
}

/** "Jira", "Confluence", "Jira and Confluence". */
export function productList(model: ScaffoldModel): string {
  return model.apps.map((app) => productNames(app).label).join(' and ');
}

/** A TypeScript single-quoted string literal of `text`. */
export function tsString(text: string): string {
  return `'${text
    .replace(/[\\']/g, (char) => `\\${char}`)
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')}'`;
}

/** Markdown inline text: escapes what would otherwise be read as markup. */
export function mdText(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, (char) => `\\${char}`);
}

/** Joins lines with "\n" and ends the file with one. */
export function file(lines: readonly (string | false | undefined)[]): string {
  return `${lines.filter((line): line is string => typeof line === 'string').join('\n')}\n`;
}

/** `JSON.stringify` with two spaces and a final newline, as npm writes package.json. */
export function jsonFile(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
