// A route handler.
import { customers } from "../../customers.js";

export const dynamic = "force-dynamic";

export async function GET() {
  return Response.json(await customers());
}
