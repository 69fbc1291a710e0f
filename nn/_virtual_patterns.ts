/** The options with virtual index-pattern operands: functionals only evaluate their
 * expressions, so patterns never need to exist as dense tensors. Non-objects are passed
 * on unchanged for the builder to reject. */
export function withVirtualPatterns<T extends object>(options: T | undefined): T {
  if (options === undefined) return { patternOperands: "virtual" } as unknown as T;
  if (options === null || typeof options !== "object") return options;
  return { ...options, patternOperands: "virtual" };
}
