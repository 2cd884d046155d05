export function ErrorLine({ error }) {
  // AppxiteError: a stable `code` (UNAUTHORIZED, NOT_FOUND, RATE_LIMITED, …) and the server's message.
  return (
    <p role="alert" className="error">
      <b>{error.code ?? error.name}</b> {error.message}
    </p>
  );
}
