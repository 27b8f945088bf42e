import {
  BadRequestError,
  type CallWarning,
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  type Message,
  type Usage,
} from "@lmcot/core";

/** What an adapter's `stream` yields: text deltas, then one final result. */
export type StreamPart = { textDelta: string } | { finish: GenerateResult };

/** The result fields every adapter fills alike: the unified finish reason next to the provider's word. */
export function finished(
  text: string,
  usage: Usage,
  raw: string,
  reasons: Readonly<Record<string, FinishReason>>,
  warnings: readonly CallWarning[],
): GenerateResult {
  return {
    text,
    usage,
    finishReason: reasons[raw] ?? "other",
    rawFinishReason: raw,
    ...(warnings.length ? { warnings: [...warnings] } : {}),
  };
}

/** The request's turns as chat messages (system kept apart), whether it gave `prompt` or `messages`. */
export function chatTurns(request: GenerateRequest, provider: string): { system?: string; turns: Message[] } {
  const turns: Message[] = [...(request.messages ?? [])];
  if (request.prompt !== undefined) turns.push({ role: "user", content: request.prompt });
  if (turns.length === 0)
    throw new BadRequestError(`${provider}: the request has neither prompt nor messages`, { provider });
  const systems = [request.system, ...turns.filter((t) => t.role === "system").map((t) => t.content)].filter(
    Boolean,
  );
  return {
    ...(systems.length ? { system: systems.join("\n\n") } : {}),
    turns: turns.filter((t) => t.role !== "system"),
  };
}

/** The body of a reply that was not the stream asked for, for the error that says so ("" if unreadable). */
export async function bodyText(response: Response): Promise<string> {
  return response.text().catch(() => "");
}
