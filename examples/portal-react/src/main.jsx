import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { App } from "./App.jsx";
import "./style.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // The SDK already retries 429 / 5xx / network errors with backoff and Retry-After.
      retry: false,
      // Refetching an infinite query fetches every loaded page again: not on each focus.
      refetchOnWindowFocus: false,
      staleTime: 5 * 60_000,
    },
  },
});

createRoot(document.getElementById("root")).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
