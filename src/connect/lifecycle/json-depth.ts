/**
 * Whether `value` nests arrays/objects deeper than `max` levels (a scalar is depth 0, `{}` depth 1).
 * Iterative with an explicit stack, so a hostile body cannot overflow the call stack, and it stops at
 * the first container past the limit.
 */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: { node: object; depth: number }[] = [{ node: value, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (depth > max) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (child !== null && typeof child === 'object') stack.push({ node: child as object, depth: depth + 1 });
    }
  }
  return false;
}
