import { appendFile, readFile, writeFile } from "node:fs/promises";

/** Appends one metrics record as a JSON line. */
export async function appendMetrics(file: string, record: object): Promise<void> {
  await appendFile(file, `${JSON.stringify(record)}\n`);
}

/** Drops metric lines logged after the checkpoint a run resumes from (those steps run again). */
export async function truncateMetrics(file: string, step: number): Promise<void> {
  let text = "";
  try {
    text = await readFile(file, "utf8");
  } catch {
    return;
  }
  const kept = text.split("\n").filter((line) => {
    if (!line.trim()) return false;
    try {
      return (JSON.parse(line) as { step: number }).step <= step;
    } catch {
      return false;
    }
  });
  await writeFile(file, kept.map((l) => `${l}\n`).join(""));
}
