import { useInfiniteQuery } from "@tanstack/react-query";

/**
 * Customers of `orgId`, one API page per TanStack Query page.
 *
 * The page parameter is the SDK's `continuationToken`: each page carries the token of the
 * next, so "load more" resumes right after the last page shown — without repeating a customer
 * that an insert pushed onto the next page meanwhile (page numbers would).
 *
 * `signal` is TanStack Query's: reading it opts in to cancellation, so when the last component
 * using this query unmounts, the request in flight is aborted (the SDK stops the fetch and
 * the body stream) and the query goes back to the pages it had.
 */
export function useCustomerPages(client, orgId, query) {
  return useInfiniteQuery({
    queryKey: ["appxite-customers", orgId, query],
    queryFn: ({ pageParam, signal }) => client.customersPage(orgId, { ...query, continuationToken: pageParam, signal }),
    initialPageParam: undefined, // the first page
    // A page shorter than the page size is the last one.
    getNextPageParam: (last) => (last.items.length < last.pageSize ? undefined : last.continuationToken),
    enabled: Boolean(orgId),
  });
}
