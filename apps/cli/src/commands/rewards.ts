import { apiKeysInEnv } from "@lmcot/llm";
import { startRewardServer } from "@lmcot/rewards";
import type { Command } from "commander";
import { callOptions } from "../call-flags";
import { note } from "../log";
import { commandOptions } from "../options";
import type { RegisterCommand } from "./index";
import { serveOptionsSchema } from "./reward-options";
import { configFromFlags, rewardOptions, scorerFrom } from "./rewards-flags";
import { type ScoreFlags, score } from "./rewards-score";

async function serve(command: Command): Promise<void> {
  const flags = commandOptions(serveOptionsSchema, command);
  const config = configFromFlags(flags);
  const scorer = scorerFrom(flags, config, true);
  const token = process.env[flags.tokenEnv] || undefined;
  const loopback = ["127.0.0.1", "localhost", "::1"].includes(flags.host);
  if (!token)
    process.stderr.write(
      loopback
        ? `warning: no bearer token (${flags.tokenEnv} is not set): any program on this machine can spend your judge budget; web pages are refused (Host, Origin and Content-Type checks)\n`
        : `warning: listening on ${flags.host} without a token; anyone who can reach it spends your judge budget (set ${flags.tokenEnv})\n`,
    );
  const server = await startRewardServer({
    scorer,
    port: flags.port,
    host: flags.host,
    ...(token ? { token } : {}),
    secrets: apiKeysInEnv(),
    maxBodyBytes: Math.round(flags.maxBodyMb * 1024 * 1024),
    maxItems: flags.maxItems,
    info: { judge: flags.judge ?? null, large: flags.large ?? null, preset: flags.preset },
    log: (line) => note(`${new Date().toISOString()} ${line}\n`),
  });
  process.stdout.write(
    `reward server on ${server.url} — POST ${server.url}/get_reward, GET ${server.url}/health${token ? " (bearer token required)" : ""}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      note(`shutting down: finishing ${server.inFlight} request(s) in flight\n`);
      server.close().then(resolve, resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  const t = scorer.totals;
  process.stdout.write(
    `served ${t.items} items (${t.failedItems} failed), ${t.judgeFailures} unreadable judge replies, ${t.callFailures} failed calls scored by --on-call-failure, $${t.usage.costUsd.toFixed(4)}, ${t.usage.cachedCalls} cached calls\n`,
  );
}

export const registerRewards: RegisterCommand = (program: Command) => {
  const rewards = program
    .command("rewards")
    .description(
      "the paper's rewards: task reward + eight rationale aspect rewards; a reward server for PPO engines",
    );
  rewardOptions(
    callOptions(rewards.command("serve"))
      .description("serve POST /get_reward (OpenRLHF --remote_rm_url shape) and GET /health")
      .option(
        "--config <file>",
        "YAML or JSON: any flag as a key (--max-items ↔ maxItems); flags override it",
      )
      .option("--port <n>", "port", "5000")
      .option("--host <addr>", "address to bind (loopback by default)", "127.0.0.1")
      .option("--large <id>", "frozen large LM that answers from the rationale (task reward)")
      .option(
        "--token-env <NAME>",
        "environment variable holding the bearer token to require",
        "LMCOT_REWARD_TOKEN",
      )
      .option("--max-body-mb <n>", "largest request body", "16")
      .option("--max-items <n>", "most items in one request", "4096"),
  ).action((_flags: unknown, command: Command) => serve(command));
  rewardOptions(
    callOptions(rewards.command("score"))
      .description("compute the reward of a run's predictions (lmcot run / bench JSONL)")
      .requiredOption(
        "--run <file>",
        "run JSONL: Prediction records or bench records with rationale and answer",
      )
      .option("--data <file>", "dataset file the run's example ids come from (default: the bundled sample)")
      .option(
        "--large <id>",
        "re-ask this large LM for the task reward (default: score the run's recorded answer)",
      )
      .option(
        "--out <file>",
        "per-item rewards as JSONL, each row as it finishes; a re-run with the same --out scores only the missing rows (failures: <out>.errors.jsonl)",
      )
      .option("--json", "print the summary as JSON"),
  ).action((flags: ScoreFlags) => score(flags));
};
