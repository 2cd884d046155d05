import { useEffect, useState } from "react";
import { config, emulatorDefaultOrg } from "./appxite.js";
import { CustomerTable } from "./CustomerTable.jsx";
import { SyncPanel } from "./SyncPanel.jsx";

export function App() {
  const [orgId, setOrgId] = useState(config.orgId);
  const [problem, setProblem] = useState(null);
  const [showTable, setShowTable] = useState(true);

  useEffect(() => {
    if (!orgId) emulatorDefaultOrg().then(setOrgId, (e) => setProblem(String(e.message ?? e)));
  }, [orgId]);

  return (
    <main>
      <header>
        <h1>Customers</h1>
        <p className="muted">
          Organization <code>{orgId || "…"}</code> at <code>{config.baseUrl}</code>
        </p>
        {problem && <p role="alert" className="error">{problem}</p>}
      </header>
      {orgId && (
        <>
          <SyncPanel orgId={orgId} />
          <section className="panel" aria-labelledby="table-h">
            <div className="bar">
              <h2 id="table-h">All customers</h2>
              <button id="toggleTable" onClick={() => setShowTable((v) => !v)}>
                {showTable ? "Hide table" : "Show table"}
              </button>
            </div>
            {/* Hiding unmounts the table: its page request in flight, if any, is cancelled. */}
            {showTable && <CustomerTable orgId={orgId} />}
          </section>
        </>
      )}
    </main>
  );
}
