// The sync state in IndexedDB: per key (organization + query), the last completed sync's
// snapshot and the customers it left, written together in one transaction. (The demo's
// www/store.js is the same few lines: this example is meant to be copied whole, so it keeps
// its own.)
const DB = "appxite-customers-portal";
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

/** `{ snapshot: Uint8Array, customers: Customer[], syncedAt: number }` or undefined. */
export const loadSync = (key) => request("readonly", (s) => s.get(key));
export const saveSync = (key, value) => request("readwrite", (s) => s.put(value, key));
export const forgetSync = (key) => request("readwrite", (s) => s.delete(key));
