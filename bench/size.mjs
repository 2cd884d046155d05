// Where the package's bytes go: the shipped wasm optimised again exactly as build-pkg.sh does,
// but keeping function names (wasm-opt -g), then each function's body size from the code
// section, grouped by crate and, for this crate, by module. Printed as a markdown table;
// `make bench` puts it in BENCHMARKS.md. Run alone: `node bench/size.mjs`.
import { execFileSync } from "node:child_process";
import { readFileSync, mkdtempSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** LEB128 unsigned at `at`: [value, next offset]. */
function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, at];
  }
}

/** Function index → body size, imported function count, and index → name. */
function parse(bytes) {
  let at = 8;
  let imported = 0;
  const bodies = [];
  const names = new Map();
  let data = 0;
  while (at < bytes.length) {
    const id = bytes[at++];
    let size;
    [size, at] = leb(bytes, at);
    const end = at + size;
    if (id === 2) {
      // Imports: count the functions (kind 0).
      let [n, p] = leb(bytes, at);
      for (let i = 0; i < n; i++) {
        let len;
        [len, p] = leb(bytes, p);
        p += len;
        [len, p] = leb(bytes, p);
        p += len;
        const kind = bytes[p++];
        if (kind === 0) {
          imported++;
          [, p] = leb(bytes, p);
        } else if (kind === 1) {
          p += 1;
          const flags = bytes[p++];
          [, p] = leb(bytes, p);
          if (flags & 1) [, p] = leb(bytes, p);
        } else if (kind === 2) {
          const flags = bytes[p++];
          [, p] = leb(bytes, p);
          if (flags & 1) [, p] = leb(bytes, p);
        } else if (kind === 3) p += 2;
        else if (kind === 4) p += 2;
      }
    } else if (id === 10) {
      let [n, p] = leb(bytes, at);
      for (let i = 0; i < n; i++) {
        let len;
        [len, p] = leb(bytes, p);
        bodies.push(len);
        p += len;
      }
    } else if (id === 11) {
      data = size;
    } else if (id === 0) {
      let [len, p] = leb(bytes, at);
      const name = new TextDecoder().decode(bytes.subarray(p, p + len));
      p += len;
      if (name === "name") {
        while (p < end) {
          const sub = bytes[p++];
          let subSize;
          [subSize, p] = leb(bytes, p);
          const subEnd = p + subSize;
          if (sub === 1) {
            let [n, q] = leb(bytes, p);
            for (let i = 0; i < n; i++) {
              let idx;
              [idx, q] = leb(bytes, q);
              let l;
              [l, q] = leb(bytes, q);
              names.set(idx, new TextDecoder().decode(bytes.subarray(q, q + l)));
              q += l;
            }
          }
          p = subEnd;
        }
      }
    }
    at = end;
  }
  return { bodies, imported, names, data };
}

/** The group a (demangled) function name belongs to. */
function group(name) {
  const own = name.match(/appxite_customers::([a-z_]+)(::([a-z_]+))?/);
  if (own && (name.startsWith("appxite_customers::") || name.startsWith("<appxite_customers::"))) {
    return `appxite_customers::${own[1]}${own[1] === "js" || own[1] === "transport" ? `::${own[3] ?? ""}` : ""}`;
  }
  const crate = name.replace(/^<+/, "").match(/^([A-Za-z_][A-Za-z0-9_]*)/)?.[1] ?? "?";
  if (/^(core|alloc|std)$/.test(crate)) return /fmt/.test(name) ? `${crate} (fmt)` : crate;
  if (/^wasm_bindgen|^js_sys|^web_sys|^gloo/.test(crate)) return crate;
  return crate;
}

export function sizeTable() {
  const dir = mkdtempSync(join(tmpdir(), "appxite-size-"));
  const named = join(dir, "named.wasm");
  // The same passes as scripts/build-pkg.sh, with -g: names kept, code the same.
  execFileSync(join(ROOT, "node_modules/.bin/wasm-opt"), [
    "-Oz", "-ocimfs=0", "--converge", "-g", "--strip-producers",
    "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext",
    "--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue",
    join(ROOT, "build/appxite_customers_bg.named.wasm"), "-o", named,
  ]);
  const bytes = readFileSync(named);
  const shipped = readFileSync(join(ROOT, "pkg/appxite_customers_bg.wasm"));
  const { bodies, imported, names, data } = parse(bytes);
  const groups = new Map();
  bodies.forEach((len, i) => {
    const name = names.get(imported + i) ?? "?";
    const g = group(name);
    const e = groups.get(g) ?? { bytes: 0, functions: 0, largest: ["", 0] };
    e.bytes += len;
    e.functions++;
    if (len > e.largest[1]) e.largest = [name, len];
    groups.set(g, e);
  });
  const code = bodies.reduce((a, b) => a + b, 0);
  const gzRatio = gzipSync(shipped, { level: 9 }).length / shipped.length;
  const rows = [...groups.entries()].sort((a, b) => b[1].bytes - a[1].bytes);
  const lines = [
    `| part | functions | code bytes | share | ≈ KB gzip | largest function |`,
    `|---|---:|---:|---:|---:|---|`,
    ...rows.map(([g, e]) => `| ${g} | ${e.functions} | ${e.bytes.toLocaleString("en")} | ${((100 * e.bytes) / code).toFixed(1)} % | ${((e.bytes * gzRatio) / 1024).toFixed(1)} | \`${e.largest[0].slice(0, 70).replace(/\|/g, "\\|")}\` (${e.largest[1]} B) |`),
    `| data (string constants, tables) | | ${data.toLocaleString("en")} | | ${((data * gzRatio) / 1024).toFixed(1)} | |`,
  ];
  return { markdown: lines.join("\n"), shipped: shipped.length, gzip: gzipSync(shipped, { level: 9 }).length, code };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t = sizeTable();
  console.log(t.markdown);
  console.log(`\nshipped wasm ${t.shipped} B, ${t.gzip} B gzip; code section ${t.code} B`);
}
