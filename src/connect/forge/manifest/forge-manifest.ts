/**
 * The Connect-on-Forge manifest (`manifest.yml`) as data: the part of Atlassian's manifest schema that
 * `ForgeManifestBuilder` writes. Field names and shapes follow the schema of the `@forge/manifest`
 * package and the Forge manifest reference (developer.atlassian.com/platform/forge/manifest-reference/:
 * the overview's `app` and `app.connect`, `remotes`, `endpoint`, `permissions`, and the `trigger`,
 * `scheduledTrigger` and `preUninstall` module pages; `migration:dataResidency` from the page "Support
 * data residency realm migrations for Forge Remote").
 */

/** A token Forge puts on calls to a remote or an endpoint. */
export interface ForgeManifestAuth {
  appSystemToken?: { enabled: boolean };
  appUserToken?: { enabled: boolean };
}

export interface ForgeManifestRemote {
  key: string;
  baseUrl: string;
  operations: ('storage' | 'compute' | 'fetch' | 'other')[];
  storage?: { inScopeEUD: boolean };
  auth?: ForgeManifestAuth;
}

export interface ForgeManifestEndpoint {
  key: string;
  remote: string;
  route: { path: string };
  auth?: ForgeManifestAuth;
}

export interface ForgeManifestModules {
  trigger?: { key: string; endpoint: string; events: string[] }[];
  scheduledTrigger?: { key: string; endpoint: string; interval: 'fiveMinute' | 'hour' | 'day' | 'week' }[];
  preUninstall?: { key: string; endpoint: string }[];
  endpoint?: ForgeManifestEndpoint[];
  /** The data residency migration hooks: a list of exactly one (`@forge/manifest` refuses a bare object and a second entry). */
  'migration:dataResidency'?: ForgeManifestRealmMigration[];
}

/** Atlassian's migration service calls `<remote baseUrl><path>/schedule`, `/start`, `/status`, `/commit`, `/rollback`. */
export interface ForgeManifestRealmMigration {
  key: string;
  remote: string;
  path: string;
  /** 0.5 to 24 in steps of 0.5. */
  maxMigrationDurationHours: number;
}

export interface ForgeManifest {
  app: {
    id: string;
    runtime: { name: string };
    connect?: { key: string; remote: string };
    /** From the descriptor's `enableLicensing: true`. */
    licensing?: { enabled: boolean };
  };
  /** Connect descriptor modules, named `<product>:<module type>`, fields as in the descriptor. */
  connectModules?: Record<string, Record<string, unknown>[]>;
  modules?: ForgeManifestModules;
  remotes: ForgeManifestRemote[];
  permissions: { scopes: string[] };
}

/** What the manifest cannot say from the app's configuration alone: the choices left to the author. */
export interface ForgeManifestOptions {
  /** The key of the app's remote (the Connect remote and the endpoints' remote); default `backend`. 1-23 of `a-z A-Z 0-9 _ -`. */
  remoteKey?: string | undefined;
  /**
   * Whether the backend stores in-scope End-User Data (`remotes[].storage.inScopeEUD`); default `true`,
   * what Forge assumes of a remote that says nothing. Say `false` only when it is true of your own code:
   * the framework itself keeps sites, installations and tokens, not end-user content.
   */
  inScopeEUD?: boolean | undefined;
  /** The Forge runtime named in `app.runtime.name` (required by the schema even with no functions); default `nodejs24.x` (the runtime the manifest reference recommends). */
  runtime?: 'nodejs20.x' | 'nodejs22.x' | 'nodejs24.x' | undefined;
  /** More scopes for `permissions.scopes` (Forge OAuth scopes your product events or calls need, such as `read:jira-work`). */
  extraScopes?: readonly string[] | undefined;
  /**
   * Whether the backend calls Forge hosted storage (`ForgeStorage`), which needs the scope `storage:app`
   * and the app system token. Default: `true` when a provider or controller of the app's module injects
   * `ForgeStorage` through its constructor, `false` otherwise; say `true` for an app that reaches it
   * another way (`moduleRef.get(ForgeStorage)`), `false` to leave the scope out anyway.
   */
  storage?: boolean | undefined;
  /**
   * `maxMigrationDurationHours` of the `migration:dataResidency` module (written when the app has realm
   * migration handlers): 0.5 to 24 in steps of 0.5; default 1.5, what Forge assumes when the field is
   * absent (an app migrating within 90 minutes moves with its site, without three days' notice).
   */
  maxMigrationDurationHours?: number | undefined;
}

/** A manifest and what the author should know about it (handlers that could not be expressed, …). */
export interface ForgeManifestResult {
  manifest: ForgeManifest;
  warnings: string[];
}
