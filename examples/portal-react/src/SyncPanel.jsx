import { client, QUERY } from "./appxite.js";
import { useCustomerSync } from "./useCustomerSync.js";
import { ErrorLine } from "./ErrorLine.jsx";

export function SyncPanel({ orgId }) {
  const { status, customers, result, error, syncedAt, sync, cancel, forget } = useCustomerSync(client, orgId, QUERY);
  const busy = status === "syncing" || status === "loading";
  return (
    <section className="panel" aria-labelledby="sync-h">
      <div className="bar">
        <h2 id="sync-h">Kept in this browser</h2>
        <button id="sync" className="primary" onClick={sync} disabled={busy}>Sync</button>
        <button id="cancelSync" onClick={cancel} disabled={status !== "syncing"}>Cancel</button>
        <button id="forget" onClick={forget} disabled={busy}>Forget</button>
      </div>
      <p id="syncState" className="state" role="status" data-status={status} data-synced-at={syncedAt ?? undefined}>
        {status === "loading" && "Reading IndexedDB…"}
        {status === "syncing" && "Syncing…"}
        {status === "cancelled" && "Cancelled: nothing stored."}
        {(status === "idle" || status === "done") &&
          (syncedAt
            ? `${customers.length.toLocaleString()} customers stored, last synced ${new Date(syncedAt).toLocaleTimeString()}.`
            : "Nothing stored yet: Sync fetches every customer once, later syncs only what changed.")}
      </p>
      {error && <ErrorLine error={error} />}
      {status === "done" && result && (
        <div id="syncResult">
          <p id="syncCounts" data-added={result.stats.added} data-changed={result.stats.changed} data-removed={result.stats.removed}>
            {result.first
              ? `First sync: ${result.stats.added.toLocaleString()} customers stored.`
              : `Since last sync: +${result.stats.added} added, ${result.stats.changed} changed, ${result.stats.removed} removed (${result.stats.unchanged.toLocaleString()} unchanged).`}
          </p>
          {result.changes.length > 0 && (
            <ul id="changes">
              {result.changes.slice(0, 100).map((c) => (
                <li key={`${c.type}:${c.customerId}`} className={c.type}>
                  <span className={`mark ${c.type}`}>{c.type}</span> {c.customerName ?? c.customerId}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
