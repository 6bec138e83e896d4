import type { core } from './zod';

/** `partners[1].operations[0]`: the field path of a zod issue as a reader writes it. */
const fieldPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (text, part) =>
      typeof part === 'number'
        ? `${text}[${part}]`
        : text
          ? `${text}.${String(part)}`
          : String(part),
    '',
  );

/**
 * One line naming every bad field of a configuration, e.g.
 * `partners[1].operations[0]: unknown operation "device/remove"; limits.pageLimitMax: ...`.
 * zod's messages describe the expected value, never echo the given one.
 */
export function describeIssues(error: core.$ZodError): string {
  return error.issues.map((i) => `${fieldPath(i.path) || '(root)'}: ${i.message}`).join('; ');
}
