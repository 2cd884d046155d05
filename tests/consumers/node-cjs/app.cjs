// CommonJS: `require()` of the package (Node ≥ 20.19 loads its ES module synchronously).
const { AppxiteClient } = require("appxite-customers");

const [api, org] = process.argv.slice(2);
(async () => {
  const client = new AppxiteClient({ baseUrl: api, referer: "https://portal.example", token: "dev-token" });
  const ids = [];
  for await (const c of client.customers(org, { pageSize: 100 })) ids.push(c.customerId);
  console.log(JSON.stringify({ ok: true, count: ids.length, first: ids.slice(0, 3) }));
})();
