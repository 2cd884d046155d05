//! TypeScript declarations for the shapes that are JS-only (functions, signals, the error
//! object); the data shapes come from the Rust types through tsify.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/**
 * Every `code` an `AppxiteError` can have.
 *
 * @example
 * ```js
 * switch (err.code) {
 *   case "UNAUTHORIZED": return reauthenticate();
 *   case "RATE_LIMITED": return retryLater(err.retryAfterMs);
 *   default: throw err;
 * }
 * ```
 */
export type AppxiteErrorCode =
  | "INVALID_ARGUMENT" | "MISSING_REFERER" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND"
  | "MIXED_PLATFORM" | "BAD_REQUEST" | "RATE_LIMITED" | "HTTP" | "NETWORK" | "DECODE"
  | "TIMEOUT" | "ABORTED" | "PAGINATION" | "REDIRECT" | "INTERNAL";

/**
 * What every promise of this package rejects with (a real `Error`).
 *
 * @example
 * ```js
 * try {
 *   await client.customers(orgId).toArray();
 * } catch (err) {
 *   if (err.name !== "AppxiteError") throw err;
 *   console.error(err.code, err.status, err.message); // e.g. NOT_FOUND 404 …
 * }
 * ```
 */
export interface AppxiteError extends Error {
  /** Always `"AppxiteError"`. */
  name: "AppxiteError";
  /** What went wrong, stable across versions: switch on it rather than on `message`. */
  code: AppxiteErrorCode;
  /** The HTTP status, for errors that came with a response. */
  status?: number;
  /** For `RATE_LIMITED`: how long the server asked to wait. */
  retryAfterMs?: number;
  /** For `MIXED_PLATFORM` from `customersByIds`: the 0-based ID batch. */
  batch?: number;
  /** For `ABORTED`: the AbortSignal's reason. */
  cause?: unknown;
}

/**
 * Retries, timeouts and batching; on the client (defaults) or per call.
 *
 * @example
 * ```js
 * const client = new AppxiteClient({ referer, token, timeoutMs: 30_000 }); // defaults for every call
 * await client.customers(orgId, { deadlineMs: 120_000, retry: false }).toArray(); // this call only
 * ```
 */
export interface RunSettings {
  /** `false` turns retries off. Default `{ maxRetries: 3 }`. */
  retry?: false | RetryOptions;
  /**
   * Per attempt: how long the SDK may wait for the server (token, headers, body), 1 to
   * 2147483647 ms. Time spent waiting for your code to ask for the next customer does not
   * count. Default 60000.
   */
  timeoutMs?: number;
  /** For a whole run, wall time: all pages, retries and your own processing. Default: none. */
  deadlineMs?: number;
  /** IDs per POST request in `customersByIds`. Default 100, at most 1000. */
  batchSize?: number;
  /** The largest customer record accepted, in bytes (`DECODE` beyond it). Default 33554432 (32 MiB). */
  maxRecordBytes?: number;
  /** The most pages one run may request (`PAGINATION` beyond it). Default: no cap. */
  maxPages?: number;
}

/**
 * Options of `new AppxiteClient(options)`.
 *
 * @example
 * ```js
 * const client = new AppxiteClient({
 *   baseUrl: "https://api.appxite.com",
 *   referer: "https://portal.example.com", // required where there is no page (Workers, Node)
 *   token: async (refresh) => (refresh ? refreshToken() : cachedToken()),
 *   onEvent: (e) => console.debug(e),
 * });
 * ```
 */
export interface AppxiteClientOptions extends RunSettings {
  /** Default "https://api.appxite.com". Plain http only for localhost. */
  baseUrl?: string;
  /** Sent as X-Referer. Default: the page's origin; required where there is no page (Workers, Node). */
  referer?: string;
  /** Bearer token, or a function called before each request (`refresh` is true after a 401). */
  token?: string | ((refresh: boolean) => string | Promise<string>);
  /** Sent as Ocp-Apim-Subscription-Key. */
  subscriptionKey?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /**
   * Names of `headers` whose values are secret, besides `Authorization`,
   * `Proxy-Authorization`, `Cookie` and `Ocp-Apim-Subscription-Key` (always secret): never
   * in an error message or event, never sent over plain http except to loopback.
   */
  secretHeaders?: string[];
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Called with every `AppxiteEvent` (request, response, retry, page). Never sees a secret. */
  onEvent?: (event: AppxiteEvent) => void;
}

/**
 * Options of `customers`, `customersByIds` and `customersPage`.
 *
 * @example
 * ```js
 * const controller = new AbortController();
 * const pager = client.customersByIds(ids, { includeContacts: true, concurrency: 8, signal: controller.signal });
 * ```
 */
export interface CustomersOptions extends CustomerQuery, RunSettings {
  /** Aborts the run: the request in flight, any retry wait and the body stream. */
  signal?: AbortSignal;
  /**
   * `customersByIds`: ID batches fetched at once (1–16, default 4). With more than one
   * batch and concurrency > 1, batches are collected whole, ahead of the one being read,
   * and handed out in input order.
   */
  concurrency?: number;
  /**
   * `customers(orgId)`: resume after the page that gave this token (`CustomerPage.continuationToken`).
   * The organization and query must be the same (else `INVALID_ARGUMENT`); leave out `page`.
   */
  continuationToken?: string;
}

/**
 * Options of `sync`.
 *
 * @example
 * ```js
 * const run = client.sync(orgId, { includeTenants: true, snapshot: await kv.get("snapshot", "arrayBuffer").then((b) => b && new Uint8Array(b)) });
 * ```
 */
export interface SyncOptions extends Omit<CustomerQuery, "page">, RunSettings {
  /** The `snapshot` of this organization's and query's last completed sync. Without it, every customer is `added`. */
  snapshot?: Uint8Array;
  /** Aborts the sync. */
  signal?: AbortSignal;
}

/**
 * One page of customers.
 *
 * @example
 * ```js
 * const { items } = await client.customersPage(orgId, { page: 3, pageSize: 500 });
 * ```
 */
export interface CustomerPage {
  /** 1-based page number. */
  page: number;
  /** The page size that was asked for (10000 when not given). */
  pageSize: number;
  /** The page's customers, in the order the server sent them. */
  items: Customer[];
  /**
   * `customers(orgId)` only: pass it as `continuationToken` to resume after this page — in
   * another process, a later request — with the same organization and query.
   */
  continuationToken?: string;
}
"#;
