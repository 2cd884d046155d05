// A server component.
import { customers } from "./customers.js";

export const dynamic = "force-dynamic";

export default async function Page() {
  return <pre id="server">{JSON.stringify(await customers())}</pre>;
}
