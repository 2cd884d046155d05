// Puts the Rust doc comments back on the properties tsify leaves bare, in the package's .d.ts
// (called by scripts/build-pkg.sh). tsify writes a struct with a flattened field (`Customer`)
// and an internally tagged enum (`AppxiteEvent`, `CustomerChange`) as one-line type literals
// without the fields' docs; editors' hovers and the API reference (`make docs`) need them.
// Every property of those types must find its doc in src/, or the build fails.
//
//   node scripts/dts-docs.mjs <file.d.ts>
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const camel = (snake) => snake.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const lowerFirst = (s) => s[0].toLowerCase() + s.slice(1);

/** Rust structs and enums of src/: their docs, fields (by serialized name) and variants. */
function rustItems(dir) {
  const items = new Map();
  const files = readdirSync(dir, { recursive: true }).filter((f) => f.endsWith(".rs"));
  for (const file of files) {
    let doc = [];
    let rename = null;
    let item = null; // { kind, fields, variants }
    let variant = null;
    for (const raw of readFileSync(join(dir, file), "utf8").split("\n")) {
      const line = raw.trim();
      const d = line.match(/^\/\/\/ ?(.*)$/);
      if (d) {
        doc.push(d[1]);
        continue;
      }
      if (line.startsWith("#[")) {
        const r = line.match(/rename = "([^"]+)"/);
        if (r && !line.includes("rename_all")) rename = r[1];
        continue;
      }
      const start = line.match(/^pub (struct|enum) (\w+)\b.*\{$/);
      if (start) {
        item = { kind: start[1], doc: doc.join("\n"), fields: new Map(), variants: new Map() };
        items.set(start[2], item);
      } else if (item && line === "}") {
        item = null;
      } else if (item?.kind === "enum" && !variant && /^\w+ \{$/.test(line)) {
        const name = line.slice(0, -2);
        variant = { doc: doc.join("\n"), fields: new Map() };
        item.variants.set(lowerFirst(name), variant);
      } else if (variant && /^\},?$/.test(line)) {
        variant = null;
      } else if (item) {
        const f = line.match(/^(?:pub )?(\w+): /);
        if (f) (variant ?? item).fields.set(rename ?? camel(f[1]), doc.join("\n"));
      }
      doc = [];
      rename = null;
    }
  }
  return items;
}

/** Splits `text` at `sep` where no bracket is open. */
function splitTop(text, sep) {
  const parts = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ("{[(<".includes(c)) depth++;
    else if ("}])>".includes(c)) depth--;
    else if (depth === 0 && text.startsWith(sep, i)) {
      parts.push(text.slice(from, i));
      from = i + sep.length;
      i += sep.length - 1;
    }
  }
  parts.push(text.slice(from));
  return parts.map((p) => p.trim()).filter(Boolean);
}

const jsdoc = (text, indent) =>
  text.includes("\n")
    ? `${indent}/**\n${text.split("\n").map((l) => `${indent} *${l ? " " + l : ""}`).join("\n")}\n${indent} */\n`
    : `${indent}/** ${text} */\n`;

/** A `{ a: T; b?: U }` literal, one documented property per line. */
function documentLiteral(literal, docOf, where, indent = "") {
  const props = splitTop(literal.trim().slice(1, -1), ";");
  const lines = props.map((p) => {
    const name = p.match(/^(\w+)\??:/)?.[1];
    const doc = name && docOf(name);
    if (!doc) throw new Error(`dts-docs: no doc for ${where}.${name ?? p} in src/`);
    return `${jsdoc(doc, indent + "    ")}${indent}    ${p};`;
  });
  return `{\n${lines.join("\n")}\n${indent}}`;
}

const [file] = process.argv.slice(2);
const items = rustItems(new URL("../src", import.meta.url).pathname);
let dts = readFileSync(file, "utf8");
let done = 0;
dts = dts.replace(/^export type (\w+) = (\{.*\});$/gm, (whole, name, body) => {
  const item = items.get(name);
  if (!item) throw new Error(`dts-docs: ${name} is a one-line type literal but no struct or enum in src/`);
  done++;
  if (item.kind === "struct") {
    // A flattened map of unknown fields adds `& {}`: nothing a type can name, so it goes.
    const [literal, ...rest] = splitTop(body, "&");
    if (rest.some((r) => r !== "{}")) throw new Error(`dts-docs: ${name}: unexpected ${rest.join(" & ")}`);
    return `export type ${name} = ${documentLiteral(literal, (p) => item.fields.get(p), name)};`;
  }
  const members = splitTop(body, "|").map((literal) => {
    const tag = literal.match(/^\{ type: "(\w+)"/)?.[1];
    const variant = item.variants.get(tag);
    if (!variant) throw new Error(`dts-docs: ${name}: no variant for ${literal.slice(0, 40)}`);
    return documentLiteral(literal, (p) => (p === "type" ? variant.doc : variant.fields.get(p)), `${name}.${tag}`, "    ");
  });
  return `export type ${name} =\n  | ${members.join("\n  | ")};`;
});
if (done === 0) throw new Error("dts-docs: no one-line type literal found: has tsify's output changed?");
// wasm-bindgen's `free()` on every class.
const free = dts.match(/^ {4}free\(\): void;$/gm)?.length ?? 0;
if (free === 0) throw new Error("dts-docs: no free() found: has wasm-bindgen's output changed?");
dts = dts.replace(
  /^ {4}free\(\): void;$/gm,
  "    /** Gives this object's WebAssembly memory back now instead of when it is garbage-collected; do not use the object afterwards. Never needed for correctness. */\n    free(): void;",
);
writeFileSync(file, dts);
console.log(`dts-docs: ${done} type literals documented, ${free} free() methods`);
