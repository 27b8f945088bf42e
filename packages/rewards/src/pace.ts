/**
 * A function to await between small pieces of work: once `budgetMs` has passed since the event loop
 * last had a turn, every caller waits for the same `setImmediate`, so timers, sockets and other
 * requests run even when every model call answers at once (a cache hit, an offline model).
 */
export function pacer(budgetMs = 10): () => Promise<void> {
  let since = performance.now();
  let turn: Promise<void> | undefined;
  return async () => {
    if (performance.now() - since < budgetMs) return;
    turn ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        turn = undefined;
        since = performance.now();
        resolve();
      }),
    );
    await turn;
  };
}
