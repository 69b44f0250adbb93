// Data flows one way (ARCHITECTURE.md): binlog → events → transport → sink → target, and the
// imports follow it. Every `import … from`, `export … from` and `import("…")` in src/**/*.ts
// (type-only ones too) is checked against ALLOWED below, which mirrors ARCHITECTURE.md's
// direction rule; and no two files may import each other, directly or round a longer cycle.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

const SRC = resolve(import.meta.dir, "../../src");

/**
 * What each folder of src/ may import, besides itself and the shared top-level files
 * (errors.ts, error-codes.ts, backoff.ts, checkpoint-names.ts, log-contract.ts: importable from
 * anywhere, importing only each other). "*" is everything, including files outside src/
 * (cli/main.ts reads package.json for --version). Written from what the code imports; the
 * test below also checks that the table itself has one direction (no cycle between folders).
 */
const ALLOWED: Record<string, readonly string[]> = {
  config: [],
  runtime: [],
  binlog: ["config"],
  events: ["binlog", "config"],
  transport: ["config"],
  source: ["binlog", "events", "transport", "runtime", "config"],
  dialect: ["binlog", "events", "config"],
  copy: ["binlog", "events", "transport", "dialect", "runtime", "config"],
  sink: ["binlog", "events", "transport", "dialect", "copy", "runtime", "config"],
  check: ["binlog", "transport", "dialect", "runtime", "config"],
  status: ["binlog", "events", "transport", "dialect", "check", "runtime", "config"],
  cli: ["*"],
};

/** Single imports ALLOWED does not permit, each with why it stays (ARCHITECTURE.md "Known exceptions"). */
const EXCEPTIONS: readonly { from: string; to: string; why: string }[] = [];

const TOP = "(top)";
const OUTSIDE = "(outside src)";

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : [];
    });
}

/** "binlog" for src/binlog/events/rows.ts, TOP for src/errors.ts, OUTSIDE for ../package.json. */
function folderOf(file: string): string {
  const rel = relative(SRC, file);
  if (rel.startsWith("..")) return OUTSIDE;
  const parts = rel.split("/");
  return parts.length === 1 ? TOP : parts[0]!;
}

/** Each src file (relative to src/) → the files its relative `import`/`export … from` and `import("…")` name (relative to src/; "../…" when outside). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of walk(SRC)) {
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const targets: string[] = [];
    const add = (spec: string) => {
      if (spec.startsWith(".")) targets.push(relative(SRC, resolve(dirname(file), spec)));
    };
    const visit = (node: ts.Node): void => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] !== undefined && ts.isStringLiteral(node.arguments[0])) {
        add(node.arguments[0].text);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        add(node.argument.literal.text); // type T = import("./x.ts").T
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

const graph = importGraph();

describe("imports follow the data flow (ARCHITECTURE.md)", () => {
  test("the parser sees the imports (guards the test itself)", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("binlog/json.ts")).toContain("binlog/decimal.ts");
    expect(graph.get("events/encode.ts")).toContain("log-contract.ts"); // import type
    expect(graph.get("dialect/ddl.ts")).toContain("dialect/ddl-skipped.ts"); // export … from
    expect(graph.get("cli/main.ts")?.some((t) => t.endsWith("package.json"))).toBe(true);
  });

  test("every folder of src/ is in the table, and the table has one direction", () => {
    const folders = new Set([...graph.keys()].map((f) => folderOf(join(SRC, f))).filter((f) => f !== TOP));
    expect([...folders].filter((f) => !(f in ALLOWED))).toEqual([]);
    for (const [from, to] of Object.entries(ALLOWED)) {
      for (const t of to) expect(t === "*" || t in ALLOWED, `${from} allows unknown folder ${t}`).toBe(true);
    }
    // Topological order of the folders without "*" (cli): fails if two folders may import each other.
    const left = new Map(Object.entries(ALLOWED).filter(([, to]) => !to.includes("*")));
    const order: string[] = [];
    while (left.size > 0) {
      const ready = [...left].filter(([, to]) => to.every((t) => order.includes(t))).map(([f]) => f);
      expect(ready, `folders allowed to import each other, round: ${[...left.keys()].join(", ")}`).not.toEqual([]);
      for (const f of ready) {
        order.push(f);
        left.delete(f);
      }
    }
  });

  test("ARCHITECTURE.md shows the same table", () => {
    const text = readFileSync(resolve(SRC, "../ARCHITECTURE.md"), "utf8");
    const start = text.indexOf("| folder | may import");
    expect(start).toBeGreaterThan(0);
    const names = (cell: string) => [...cell.matchAll(/`([a-z-]+)\/`/g)].map((m) => m[1]!);
    const shown: Record<string, string[]> = {};
    for (const row of text.slice(start).split("\n").slice(2)) {
      if (!row.startsWith("|")) break;
      const [, folders = "", may = ""] = row.split("|");
      const allowed = may.includes("everything") ? ["*"] : names(may);
      for (const f of names(folders)) shown[f] = allowed.sort();
    }
    expect(shown).toEqual(Object.fromEntries(Object.entries(ALLOWED).map(([f, to]) => [f, [...to].sort()])));
  });

  test("no import goes against the table", () => {
    const bad: string[] = [];
    const usedExceptions = new Set<string>();
    for (const [file, targets] of graph) {
      const from = folderOf(join(SRC, file));
      for (const target of targets) {
        const to = folderOf(join(SRC, target));
        if (to === from) continue;
        if (from === TOP) {
          if (to !== TOP) bad.push(`${file} → ${target}: a shared top-level file imports only other top-level files`);
          continue;
        }
        const allowed = ALLOWED[from] ?? [];
        if (allowed.includes("*") || to === TOP || allowed.includes(to)) continue;
        const exception = EXCEPTIONS.find((e) => e.from === file && e.to === target);
        if (exception !== undefined) {
          usedExceptions.add(`${exception.from} → ${exception.to}`);
          continue;
        }
        bad.push(`${file} → ${target}: ${from}/ may import ${allowed.length === 0 ? "only the shared top-level files" : allowed.join(", ")}`);
      }
    }
    expect(bad).toEqual([]);
    // An exception no import needs any more is removed from the list (and from ARCHITECTURE.md).
    expect(EXCEPTIONS.map((e) => `${e.from} → ${e.to}`).filter((e) => !usedExceptions.has(e))).toEqual([]);
  });

  test("no import cycle between files (type-only imports included)", () => {
    expect(importCycles()).toEqual([]);
  });
});

/** Import cycles: Tarjan's strongly connected components of more than one file, each sorted. */
function importCycles(): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w) || w === v) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}
