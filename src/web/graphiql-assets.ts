/**
 * GraphiQL's scripts, styles and editor workers, served by the gateway itself from the installed
 * `@graphql-yoga/graphiql` package. Yoga's own page loads them from a public CDN, which a hospital
 * network without internet access never reaches (the page stays at "Loading...").
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Route } from '../gateway.js';

const PACKAGE = '@graphql-yoga/graphiql';

/** The files the page needs (all UTF-8 text), relative to the package's `dist/`. */
const FILES = {
  css: 'graphiql.css',
  script: 'yoga-graphiql.umd.js',
  editorWorker: 'monacoeditorwork/editor.worker.bundle.js',
  jsonWorker: 'monacoeditorwork/json.worker.bundle.js',
  // The double dot is the package's own file name.
  graphqlWorker: 'monacoeditorwork/graphql.worker..bundle.js',
} as const;

export type GraphiQLAssetName = keyof typeof FILES;

/** Where the page finds each asset: absolute paths on the gateway's own origin. */
export type GraphiQLAssetUrls = Readonly<Record<GraphiQLAssetName, string>>;

/** The package is not installed (a broken install); `main.ts` prints the fixed message. */
export class GraphiQLAssetsMissingError extends Error {
  override readonly name = 'GraphiQLAssetsMissingError';
  readonly code = 'GRAPHIQL_ASSETS_MISSING';
  constructor() {
    super(
      `${PACKAGE} is not installed, and GraphiQL serves its files from it: run npm install ` +
        '(or set FHIRGATE_GRAPHIQL=false).',
    );
  }
}

export interface GraphiQLAssets {
  /** The installed package version; it is part of every URL, so the files can be cached for good. */
  readonly version: string;
  readonly urls: GraphiQLAssetUrls;
  /** One GET route per file. */
  readonly routes: readonly Route[];
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

function contentTypeOf(file: string): string {
  return CONTENT_TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';
}

/**
 * Finds the installed package and describes its assets under `/graphiql/<version>/`. Files are
 * read on first request and kept in memory (about 8 MB), so a page load costs no disk reads.
 *
 * @throws GraphiQLAssetsMissingError when the package is not installed.
 */
export function graphiqlAssets(basePath = '/graphiql'): GraphiQLAssets {
  const require = createRequire(import.meta.url);
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${PACKAGE}/package.json`);
  } catch {
    throw new GraphiQLAssetsMissingError();
  }
  const { version } = require(manifestPath) as { version: string };
  const dist = join(dirname(manifestPath), 'dist');
  const prefix = `${basePath}/${version}`;
  const urls = Object.fromEntries(
    Object.entries(FILES).map(([name, file]) => [name, `${prefix}/${file}`]),
  ) as unknown as GraphiQLAssetUrls;
  const routes = Object.values(FILES).map((file): Route => {
    let body: Promise<string> | undefined;
    const headers = {
      'content-type': contentTypeOf(file),
      // The version is in the path: a new package version is a new URL.
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    };
    return {
      method: 'GET',
      path: `${prefix}/${file}`,
      async handle() {
        body ??= readFile(join(dist, file), 'utf8');
        try {
          return new Response(await body, { headers });
        } catch {
          body = undefined;
          return new Response('GraphiQL asset unavailable', { status: 500 });
        }
      },
    };
  });
  return { version, urls, routes };
}
