import { existsSync } from "node:fs";
import { join } from "node:path";
import { buildView, exportView, serveView } from "@lmcot/bench";
import type { Command } from "commander";
import { onInterrupt } from "../interrupt";
import { note } from "../log";
import { readingInput, UsageError } from "../usage-error";
import type { RegisterCommand } from "./index";

interface ViewFlags {
  export?: string;
  port: string;
}

export const registerView: RegisterCommand = (program: Command) => {
  program
    .command("view")
    .description(
      "look at every question across methods: a local, read-only page over one or more run directories",
    )
    .argument("<runDirs...>", "bench run directories (two or more are compared item by item: A, B, …)")
    .option("--export <dir>", "write the page as self-contained static files to <dir> instead of serving it")
    .option("--port <n>", "port on 127.0.0.1 (0: any free port)", "0")
    .action(async (runDirs: string[], flags: ViewFlags) => {
      for (const dir of runDirs)
        if (!existsSync(join(dir, "run.jsonl")))
          throw new UsageError(`${dir}: not a run directory (no run.jsonl)`);
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port must be an integer from 0 to 65535 (got ${flags.port})`);
      const files = await readingInput(() => buildView(runDirs));
      if (flags.export) {
        process.stdout.write(`${exportView(files, flags.export)}\n`);
        return;
      }
      const served = await serveView(files, { port });
      process.stdout.write(`${served.url}\n`);
      note("read-only, on this machine only; Ctrl-C stops");
      await onInterrupt(
        (signal) => new Promise<void>((done) => signal.addEventListener("abort", () => done())),
      );
      await served.close();
    });
};
