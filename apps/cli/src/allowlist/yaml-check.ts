import { isMap, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";

/** A problem in an admin-edited YAML file, located so the admin can go straight to it. */
export interface Problem {
  line: number;
  message: string;
}

export interface Checked<T> {
  value?: T;
  problems: Problem[];
}

type Path = readonly PropertyKey[];

/** The node at a path, or the deepest ancestor that exists (so every problem gets some line). */
function nodeAt(root: unknown, path: Path): Node | undefined {
  let node = root as Node | undefined;
  for (const key of path) {
    let next: unknown;
    if (isMap(node)) next = node.get(key as string, true);
    else if (isSeq(node)) next = node.get(Number(key), true);
    if (!next) break;
    node = next as Node;
  }
  return node;
}

/** The key node of `key` inside the map at `path` (where an unknown key is written). */
function keyNodeAt(root: unknown, path: Path, key: string): Node | undefined {
  const map = nodeAt(root, path);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
  return (pair?.key as Node | undefined) ?? map;
}

/**
 * Parses YAML and validates it against a zod schema, mapping every problem to a 1-based line:
 * syntax errors, schema violations (unknown keys point at the key itself) and extra checks.
 */
export function checkYaml<T>(
  text: string,
  schema: z.ZodType<T>,
  // Extra checks see the raw document, so they report even when the schema found problems too.
  extra: (raw: unknown, lineOf: (path: Path) => number) => Problem[] = () => [],
): Checked<T> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => ({
        line: e.linePos?.[0].line ?? 1,
        message: `not valid YAML: ${e.message.split("\n")[0]?.replace(/ at line \d+, column \d+:$/, "")}`,
      })),
    };
  }
  const lineOfNode = (node: Node | undefined) => (node?.range ? lines.linePos(node.range[0]).line : 1);
  const lineOf = (path: Path) => lineOfNode(nodeAt(doc.contents, path));
  const raw = doc.toJS() ?? {};
  const parsed = schema.safeParse(raw);
  const problems = extra(raw, lineOf);
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.flatMap((issue) => {
        if (issue.code === "unrecognized_keys") {
          return issue.keys.map((key) => ({
            line: lineOfNode(keyNodeAt(doc.contents, issue.path, key)),
            message: `unknown key '${key}'${issue.path.length ? ` in ${issue.path.join(".")}` : ""}`,
          }));
        }
        const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
        return [{ line: lineOf(issue.path), message: `${where}${issue.message}` }];
      }),
    );
  }
  problems.sort((a, b) => a.line - b.line);
  return problems.length || !parsed.success ? { problems } : { value: parsed.data, problems };
}

/** Problems for names listed more than once, located at the repeat. */
export function duplicates(
  names: string[],
  what: string,
  pathOf: (index: number) => Path,
  lineOf: (path: Path) => number,
): Problem[] {
  return names.flatMap((name, i) =>
    name === "" || names.indexOf(name) === i
      ? []
      : [
          {
            line: lineOf(pathOf(i)),
            message: `${what} '${name}' is listed more than once (first at line ${lineOf(pathOf(names.indexOf(name)))})`,
          },
        ],
  );
}
