import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { closest } from "@lmcot/core";
import { z } from "zod";
import { DataFetchError } from "./data-errors";
import { BUILTIN_SOURCES, canonicalId, type DataSource } from "./registry";
import { readJson } from "./text";
import { validate } from "./validate";

const sha256 = z.string().regex(/^[0-9a-f]{64}$/i, "must be 64 hex digits");

const userEntry = z.object({
  name: z.string().regex(/^[a-z0-9][\w.-]*:[\w.-]+$/i, "must be name:split, e.g. mydata:dev"),
  url: z.string().url(),
  sha256: sha256.optional(),
  bytes: z.number().int().positive().optional(),
  /** The largest the data may become, decoded or unpacked (the member, for an archive). */
  maxBytes: z.number().int().positive().optional(),
  /** Seconds an attempt may receive nothing, and the whole download may take (see `lmcot data get`). */
  stallTimeout: z.number().positive().optional(),
  totalTimeout: z.number().positive().optional(),
  /** The url is a zip archive; this member (matched by file name) is the data file. */
  member: z.string().min(1).optional(),
  format: z.enum(["hotpotqa", "2wikimultihopqa"]).optional(),
  description: z.string().optional(),
  licence: z.string().optional(),
  citation: z.string().optional(),
});

const userRegistry = z.object({ datasets: z.array(userEntry) });

export type UserDataEntry = z.infer<typeof userEntry>;

/** Where the user's own entries come from, and an optional mirror tried before the official URLs. */
export interface RegistryOptions {
  /** A JSON file `{ "datasets": [{ "name", "url", "sha256"? }] }`; default `$LMCOT_DATA_REGISTRY`, else `<dataDir>/registry.json`. */
  registryFile?: string;
  /** Entries given in code; they win over the file's and the built-in ones. */
  entries?: UserDataEntry[];
  /** A base URL serving the official file names; default `$LMCOT_DATA_MIRROR`. */
  mirror?: string;
}

function safeName(value: string): string {
  return value.replace(/[^\w.-]+/g, "_");
}

function fromUser(entry: UserDataEntry): DataSource {
  const id = canonicalId(entry.name);
  const [name = "", split = ""] = id.split(":");
  const urlFile = safeName(basename(new URL(entry.url).pathname) || "download");
  const file = `user/${safeName(name)}/${safeName(split)}/${entry.member ? basename(entry.member) : urlFile}`;
  return {
    id,
    name,
    split,
    description: entry.description ?? `user entry (${entry.url})`,
    file,
    download: {
      urls: [entry.url],
      file: entry.member ? `user/${safeName(name)}/${safeName(split)}/${urlFile}` : file,
      ...(entry.sha256 ? { sha256: entry.sha256.toLowerCase() } : {}),
      ...(entry.bytes ? { bytes: entry.bytes } : {}),
      ...(entry.maxBytes ? { maxBytes: entry.maxBytes } : {}),
      ...(entry.stallTimeout ? { stallTimeoutMs: entry.stallTimeout * 1000 } : {}),
      ...(entry.totalTimeout ? { totalTimeoutMs: entry.totalTimeout * 1000 } : {}),
      ...(entry.member ? { archive: "zip" as const } : {}),
    },
    ...(entry.format ? { format: entry.format } : {}),
    ...(entry.licence ? { licence: entry.licence } : {}),
    ...(entry.citation ? { citation: entry.citation } : {}),
  };
}

async function readUserEntries(dataDir: string, options: RegistryOptions): Promise<UserDataEntry[]> {
  const file = options.registryFile ?? process.env.LMCOT_DATA_REGISTRY ?? join(dataDir, "registry.json");
  const explicit = options.registryFile !== undefined || process.env.LMCOT_DATA_REGISTRY !== undefined;
  if (!explicit && !existsSync(file)) return options.entries ?? [];
  const parsed = validate(userRegistry, await readJson(file), { file });
  return [...parsed.datasets, ...(options.entries ?? [])];
}

function withMirror(source: DataSource, mirror: string | undefined): DataSource {
  if (!mirror) return source;
  const official = source.download.urls[0];
  const name = official ? basename(new URL(official).pathname) : basename(source.download.file);
  const url = `${mirror.replace(/\/+$/, "")}/${name}`;
  return { ...source, download: { ...source.download, urls: [url, ...source.download.urls] } };
}

/** Every known source: the built-in ones, replaced or extended by the user's entries (same name wins). */
export async function listSources(dataDir: string, options: RegistryOptions = {}): Promise<DataSource[]> {
  const mirror = options.mirror ?? process.env.LMCOT_DATA_MIRROR;
  const byId = new Map<string, DataSource>(BUILTIN_SOURCES.map((s) => [s.id, withMirror(s, mirror)]));
  for (const entry of await readUserEntries(dataDir, options)) {
    const source = fromUser(entry);
    const builtin = byId.get(source.id);
    // Replacing a built-in entry's URL keeps what is known about the data (format, licence, citation).
    const merged = builtin
      ? {
          ...builtin,
          file: source.file,
          download: source.download,
          description: `${builtin.description}, from ${entry.url}`,
        }
      : source;
    byId.set(source.id, merged);
  }
  return [...byId.values()];
}

/** The source named `name:split`, or an error listing the known ones (with a did-you-mean). */
export async function findSource(
  id: string,
  dataDir: string,
  options: RegistryOptions = {},
): Promise<DataSource> {
  const sources = await listSources(dataDir, options);
  const wanted = canonicalId(id);
  const found = sources.find((s) => s.id === wanted);
  if (found) return found;
  const ids = sources.map((s) => s.id);
  const guess = closest(wanted, ids);
  throw new DataFetchError(
    "dataset_unknown",
    `unknown dataset "${id}"${guess ? ` (did you mean ${guess}?)` : ""}; known: ${ids.join(", ")}; add your own in ${options.registryFile ?? join(dataDir, "registry.json")}`,
  );
}
