// Cost of a CEL expression, in the spirit of cel-go's cost estimator as Kubernetes configures it:
// each node costs 1, string operations cost a tenth of the string's length, regular expressions
// their input's length, and a comprehension (all, exists, exists_one, map, filter) its body times
// the size of what it iterates. Sizes come from a `sizeOf` callback: at CRD creation the schema's
// maxItems/maxProperties/maxLength (or what a 3 MiB request could hold when unbounded: the
// estimated cost); before evaluation the actual sizes of the object (the runtime cost bound).

/** A node of @marcbachmann/cel-js's AST: `{op, args}`. */
export interface CelAstNode {
  op: string;
  args: unknown;
}

/** Size of the value an expression path denotes (`self.spec.items`), or undefined when unknown. */
export type SizeOf = (path: string[]) => number | undefined;

/** What a 3 MiB request body can hold of one collection when the schema sets no limit. */
export const UNBOUNDED_SIZE = 1_000_000;
/** Kubernetes' per-expression limits (apiserver/pkg/apis/cel/config.go). */
export const STATIC_ESTIMATED_COST_LIMIT = 10_000_000;
export const PER_CALL_LIMIT = 1_000_000;

const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const STRING_TRAVERSAL = new Set(['contains', 'startsWith', 'endsWith', 'indexOf', 'lastIndexOf', 'lowerAscii', 'upperAscii', 'replace', 'split', 'substring', 'trim', 'join', 'charAt', 'reverse']);
const REGEX = new Set(['matches', 're2Matches', 'find', 'findAll']);

function isNode(value: unknown): value is CelAstNode {
  return typeof value === 'object' && value !== null && typeof (value as CelAstNode).op === 'string';
}

/** `self.spec.items` → ['self', 'spec', 'items']; undefined for anything but a field path. */
function pathOf(node: unknown, bound: Map<string, string[]>): string[] | undefined {
  if (!isNode(node)) return undefined;
  if (node.op === 'id') return bound.get(node.args as string) ?? [node.args as string];
  if (node.op === '.' || node.op === '.?') {
    const [target, field] = node.args as [unknown, string];
    const base = pathOf(target, bound);
    return base ? [...base, field] : undefined;
  }
  if (node.op === 'rcall' && (node.args as unknown[])[0] === 'value') return pathOf((node.args as unknown[])[1], bound);
  return undefined;
}

export function estimateCost(root: unknown, sizeOf: SizeOf): number {
  const walk = (node: unknown, bound: Map<string, string[]>): number => {
    if (Array.isArray(node)) return node.reduce((sum: number, child) => sum + walk(child, bound), 0);
    if (!isNode(node)) return 0;
    if (node.op === 'rcall') {
      const [name, receiver, args] = node.args as [string, unknown, unknown[]];
      if (MACROS.has(name) && Array.isArray(args) && args.length >= 2) {
        const targetPath = pathOf(receiver, bound);
        const size = (targetPath && sizeOf(targetPath)) ?? UNBOUNDED_SIZE;
        const variable = isNode(args[0]) && args[0].op === 'id' ? (args[0].args as string) : undefined;
        const inner = new Map(bound);
        // The loop variable stands for one element: `[]` marks "an item of".
        if (variable && targetPath) inner.set(variable, [...targetPath, '[]']);
        const body = args.slice(1).reduce((sum: number, child) => sum + walk(child, inner), 0);
        return walk(receiver, bound) + size * (body + 1);
      }
      const receiverCost = walk(receiver, bound) + walk(args, bound);
      if (STRING_TRAVERSAL.has(name) || REGEX.has(name)) {
        const receiverPath = pathOf(receiver, bound);
        const length = (receiverPath && sizeOf(receiverPath)) ?? UNBOUNDED_SIZE * 3;
        return receiverCost + 1 + Math.ceil(length * (REGEX.has(name) ? 1 : 0.1));
      }
      return receiverCost + 1;
    }
    const args = node.args;
    if (Array.isArray(args)) return 1 + walk(args, bound);
    if (isNode(args)) return 1 + walk(args, bound);
    return 1;
  };
  return walk(root, new Map());
}
