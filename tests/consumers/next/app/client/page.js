"use client";
// A client component: the SDK runs in the browser, against ?api=&org=.
import { useEffect, useState } from "react";
import { AppxiteClient } from "appxite-customers";

export default function ClientPage() {
  const [out, setOut] = useState("loading");
  useEffect(() => {
    const params = new URLSearchParams(location.search);
    (async () => {
      try {
        const client = new AppxiteClient({ baseUrl: params.get("api"), token: "dev-token" });
        const ids = [];
        for await (const c of client.customers(params.get("org"), { pageSize: 100 })) ids.push(c.customerId);
        setOut(JSON.stringify({ ok: true, count: ids.length, first: ids.slice(0, 3) }));
      } catch (e) {
        setOut(JSON.stringify({ ok: false, error: String(e?.code ?? e) }));
      }
    })();
  }, []);
  return <pre id="out">{out}</pre>;
}
