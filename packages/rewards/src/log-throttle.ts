export interface ThrottledLog {
  /** Logs `line` now, or counts it when a line went out less than the interval ago. */
  hit(line: string): void;
  /** Logs what is still counted and stops the timer. */
  close(): void;
}

/**
 * At most one line per `intervalMs` for a repeated event (a client hammering with a wrong token):
 * the first goes out at once, the ones after it are counted and reported as one line per interval.
 */
export function throttledLog(log: (line: string) => void, intervalMs: number): ThrottledLog {
  let counted = 0;
  let last = "";
  let timer: NodeJS.Timeout | undefined;
  const open = () => {
    timer = setTimeout(flush, intervalMs);
    timer.unref();
  };
  const report = () => {
    if (counted > 0) log(`${last} (×${counted} more in ${intervalMs / 1000} s)`);
    const had = counted;
    counted = 0;
    return had;
  };
  function flush() {
    timer = undefined;
    if (report() > 0) open();
  }
  return {
    hit(line) {
      last = line;
      if (timer) counted++;
      else {
        log(line);
        open();
      }
    },
    close() {
      clearTimeout(timer);
      timer = undefined;
      report();
    },
  };
}
