import { describeValue as describe } from "@einconv/runtime";

export { describe };

/** The lower bound of an integer hyperparameter: 1 (positive) or 0 (non-negative). */
export type IntegerMin = 0 | 1;

/** The adjective for integers at least `min`. */
export function integerKind(min: IntegerMin): string {
  return min === 1 ? "positive" : "non-negative";
}

/** Whether `value` is a safe integer. */
export function isInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value);
}

/**
 * Reads one integer that must be at least `min`: a non-integer is a `TypeError`,
 * an integer below `min` a `RangeError`, both naming `name` and the value.
 */
export function readInteger(name: string, value: unknown, min: IntegerMin): number {
  const message = `Cannot read ${name}: expected a ${integerKind(min)} integer, got ${
    describe(value)
  }`;
  if (!isInteger(value)) throw new TypeError(message);
  if (value < min) throw new RangeError(message);
  return value;
}
