// schema.sql split into statements for a D1 batch (no file import here: Node tests use it too).

/** schema.sql as statements (a trigger's body holds `;`, so it ends at its `END;`). */
export function schemaStatements(text) {
  const out = [];
  let current = [];
  let inTrigger = false;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/--.*$/, "").trimEnd();
    if (line.trim() === "") continue;
    if (current.length === 0 && /^\s*CREATE\s+TRIGGER/i.test(line)) inTrigger = true;
    current.push(line);
    const ends = inTrigger ? /^\s*END;\s*$/i.test(line) : line.endsWith(";");
    if (ends) {
      out.push(current.join("\n").replace(/;\s*$/, ""));
      current = [];
      inTrigger = false;
    }
  }
  return out;
}

