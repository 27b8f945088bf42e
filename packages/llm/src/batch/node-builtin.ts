/**
 * A Node built-in, loaded when first used. The specifier is built at run time so that bundlers for
 * the browser entry (which carries the batch classes for their types, and never reads files) leave
 * it alone.
 */
export function nodeBuiltin<T>(name: "fs" | "readline" | "stream"): Promise<T> {
  const specifier = `node:${name}`;
  return import(/* @vite-ignore */ specifier) as Promise<T>;
}
