// The demo's sync state in IndexedDB: per key (API, organization, query), the last completed
// sync's snapshot and the customers it left — what a portal keeps between visits — and that
// sync's summary, which the demo's other tabs show. Shared by every tab of the origin: app.js
// syncs an organization in one tab at a time (a Web Lock), so each sync reads the snapshot
// the previous one wrote.
const DB = "appxite-customers-demo";
const STORE = "syncs";

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function request(mode, f) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = f(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/**
 * `{ snapshot: Uint8Array, customers: Customer[], syncedAt: number, summary: { first, stats,
 * removed: [{ customerId, customerName }], marks: [[customerId, "added" | "changed"]] } }`, or
 * undefined.
 */
export const loadSync = (key) => request("readonly", (s) => s.get(key));
export const saveSync = (key, value) => request("readwrite", (s) => s.put(value, key));
export const forgetSync = (key) => request("readwrite", (s) => s.delete(key));
