import { useCallback, useEffect, useRef, useState } from "react";
import { forgetSync, loadSync, saveSync } from "./syncStore.js";

/**
 * The customers of `orgId` kept in this browser (IndexedDB) and brought up to date with
 * `client.sync`: only what changed since the last sync is transferred into the copy.
 *
 * Returns `{ status, customers, result, error, syncedAt, sync, cancel, forget }`:
 * - `status`: "loading" (reading IndexedDB), "idle", "syncing", "done", "cancelled", "error";
 * - `customers`: the stored copy (after a sync: the API's customers);
 * - `result`: the last sync's `{ first, stats: { added, changed, removed, unchanged }, changes }`,
 *   `changes` being `{ type, customerId, customerName }` (empty after a first sync);
 * - `sync()` runs one (a running one is cancelled first); unmounting cancels it. The snapshot
 *   and the copy are stored together and only when the sync completed: a cancelled or failed
 *   sync stores nothing.
 */
export function useCustomerSync(client, orgId, query) {
  // A snapshot is bound to the organization and the query, not to the page size.
  const { pageSize, ...bound } = query;
  const key = JSON.stringify([orgId.toLowerCase(), bound]);
  const [state, setState] = useState({ status: "loading", customers: [], result: null, error: null, syncedAt: null });
  const running = useRef(null);

  useEffect(() => {
    let live = true;
    setState({ status: "loading", customers: [], result: null, error: null, syncedAt: null });
    loadSync(key).then(
      (stored) => live && setState((s) => ({ ...s, status: "idle", customers: stored?.customers ?? [], syncedAt: stored?.syncedAt ?? null })),
      (error) => live && setState((s) => ({ ...s, status: "error", error })),
    );
    return () => {
      live = false;
      running.current?.abort();
    };
  }, [key]);

  const sync = useCallback(async () => {
    running.current?.abort();
    const controller = new AbortController();
    running.current = controller;
    const { signal } = controller;
    setState((s) => ({ ...s, status: "syncing", error: null }));
    try {
      // One sync per organization at a time across this browser's tabs: each reads the
      // snapshot the previous one stored (without the lock, two tabs would read the same one).
      const result = await oneAtATime(`appxite-sync:${orgId.toLowerCase()}`, signal, async () => {
        const stored = await loadSync(key);
        const byId = new Map((stored?.customers ?? []).map((c) => [c.customerId, c]));
        const changes = [];
        const run = client.sync(orgId, { ...query, snapshot: stored?.snapshot, signal });
        for await (const change of run) {
          const { type, customerId } = change;
          if (type === "removed") {
            changes.push({ type, customerId, customerName: byId.get(customerId)?.customerName });
            byId.delete(customerId);
          } else {
            changes.push({ type, customerId, customerName: change.customer.customerName });
            byId.set(customerId, change.customer);
          }
        }
        const customers = [...byId.values()];
        const syncedAt = Date.now();
        await saveSync(key, { snapshot: run.snapshot, customers, syncedAt });
        return { customers, syncedAt, first: !stored, stats: run.stats, changes: stored ? changes : [] };
      });
      if (running.current !== controller) return;
      const { customers, syncedAt, ...rest } = result;
      setState({ status: "done", customers, syncedAt, result: rest, error: null });
    } catch (error) {
      if (running.current !== controller) return;
      setState((s) => ({ ...s, status: signal.aborted ? "cancelled" : "error", error: signal.aborted ? null : error }));
    } finally {
      if (running.current === controller) running.current = null;
    }
  }, [client, orgId, query, key]);

  const cancel = useCallback(() => running.current?.abort(), []);

  const forget = useCallback(async () => {
    running.current?.abort();
    await forgetSync(key);
    setState({ status: "idle", customers: [], result: null, error: null, syncedAt: null });
  }, [key]);

  return { ...state, sync, cancel, forget };
}

/** `f()` holding the Web Lock `name` (waiting for it, abortably); without Web Locks, just `f()`. */
function oneAtATime(name, signal, f) {
  return navigator.locks ? navigator.locks.request(name, { signal }, f) : f();
}
