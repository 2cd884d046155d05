import { useEffect, useRef, useState } from "react";
import { client, QUERY } from "./appxite.js";
import { useCustomerPages } from "./useCustomerPages.js";
import { ErrorLine } from "./ErrorLine.jsx";

export function CustomerTable({ orgId }) {
  const { data, error, isPending, hasNextPage, fetchNextPage, isFetchingNextPage } = useCustomerPages(client, orgId, QUERY);
  const [autoLoad, setAutoLoad] = useState(false);
  const sentinel = useRef(null);
  const customers = unique(data?.pages.flatMap((page) => page.items) ?? []);
  const pages = data?.pages.length ?? 0;

  // Infinite scroll (when ticked): the next page when the end of the table comes into view.
  // A new observer per page loaded, so a page too short to push the end out of view loads the next.
  useEffect(() => {
    if (!autoLoad || !hasNextPage || isFetchingNextPage || !sentinel.current) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) fetchNextPage();
    });
    observer.observe(sentinel.current);
    return () => observer.disconnect();
  }, [autoLoad, hasNextPage, isFetchingNextPage, fetchNextPage, pages]);

  if (isPending) return <p className="state" role="status">Loading customers…</p>;
  return (
    <>
      {error && <ErrorLine error={error} />}
      <table>
        <thead>
          <tr><th>Name</th><th>Status</th><th>Country</th><th>City</th><th>Reseller</th><th>Tenants</th></tr>
        </thead>
        <tbody>
          {customers.map((c) => (
            <tr key={c.customerId} data-customer-id={c.customerId}>
              {/* JSX writes text, never HTML: names are user data. */}
              <td>{c.customerName ?? "(no name)"}</td>
              <td><span className={`badge ${c.customerStatus ?? ""}`}>{c.customerStatus}</span></td>
              <td>{c.customerCountry}</td>
              <td>{c.customerPrimaryAddress?.primaryAddressCity}</td>
              <td>{c.resellerName}</td>
              <td>{c.customerTenants?.length ?? 0}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="bar" ref={sentinel}>
        <span id="pager" className="state" role="status" data-pages={pages} data-rows={customers.length}>
          {customers.length.toLocaleString()} customers, {pages} {pages === 1 ? "page" : "pages"}
          {hasNextPage ? "" : " — all loaded"}
        </span>
        {hasNextPage && (
          <button id="loadMore" onClick={() => fetchNextPage()} disabled={isFetchingNextPage}>
            {isFetchingNextPage ? "Loading…" : "Load more"}
          </button>
        )}
        <label className="inline">
          <input id="autoLoad" type="checkbox" checked={autoLoad} onChange={(e) => setAutoLoad(e.target.checked)} /> load more as I scroll
        </label>
      </div>
    </>
  );
}

/**
 * Each customer once, by ID. A continuation token already skips the previous page's last
 * customer when an insert pushed it onto the next page; several inserts between two clicks
 * push more than one.
 */
function unique(customers) {
  const seen = new Set();
  return customers.filter((c) => !seen.has(c.customerId) && seen.add(c.customerId));
}
