import { BadRequestError, type GenerateRequest, type Message } from "@lmcot/core";

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
