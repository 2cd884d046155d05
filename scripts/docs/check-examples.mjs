// Every export of the API reference has an example (`make docs`, scripts/docs.sh):
//   - the package: each top-level export in TypeDoc's JSON has an `@example` block or a fenced
//     code block in its comment;
//   - the crate: each item the crate root exports (its re-exports, `model::*` included, and its
//     own items) has a code block in the item's own docs.
//
//   node scripts/docs/check-examples.mjs <typedoc.json> <rustdoc crate dir>
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const [typedocJson, rustDir] = process.argv.slice(2);
const missing = [];

const project = JSON.parse(readFileSync(typedocJson, "utf8"));
let js = 0;
for (const child of project.children ?? []) {
  js++;
  const c = child.comment ?? child.signatures?.[0]?.comment;
  const example = c?.blockTags?.some((t) => t.tag === "@example") || c?.summary?.some((p) => p.kind === "code" && p.text.startsWith("```"));
  if (!example) missing.push(`package: ${child.name}`);
}

const itemLinks = (html) => [...html.matchAll(/<a class="(?:struct|enum|fn|trait|type|union|macro)" href="([^"#]+)"/g)].map((m) => m[1]);
const index = join(rustDir, "index.html");
const root = readFileSync(index, "utf8");
const pages = new Set(itemLinks(root).map((h) => join(rustDir, h)));
for (const [, mod] of root.matchAll(/<a class="mod" href="([\w/]+)\/index.html"[^>]*>\w+<\/a>::\*/g)) {
  for (const h of itemLinks(readFileSync(join(rustDir, mod, "index.html"), "utf8"))) pages.add(join(rustDir, mod, h));
}
for (const page of pages) {
  const html = readFileSync(page, "utf8");
  // The item's own docs: the top docblock, before its fields, variants and impls.
  const top = html.match(/<details class="toggle top-doc" open><summary[^>]*>.*?<\/summary><div class="docblock">([\s\S]*?)<\/div><\/details>/);
  if (!top || !/<pre class="(?:rust|language-)/.test(top[1])) missing.push(`crate: ${page.slice(rustDir.length + 1)}`);
}

if (missing.length) {
  console.error(`docs: ${missing.length} exports without an example:\n  ${missing.join("\n  ")}`);
  process.exit(1);
}
console.log(`docs: every export has an example (${js} in the package, ${pages.size} in the crate)`);
