// Gemini's generateContent wire format, as the Generative Language API writes it.

const GEMINI_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

/** `{ error: { code, message, status } }` as Gemini answers a failed call. */
export function geminiErrorBody(status: number, message = "Request failed.") {
  return { error: { code: status, message, status: GEMINI_STATUS[status] ?? "UNKNOWN" } };
}

/** A generateContent reply: one candidate of `text`, with usage (thinking tokens too when given). */
export function geminiResponse(
  text: string,
  usage: { input: number; output: number; thoughts?: number },
  extra: { finishReason?: string; model?: string } = {},
) {
  return {
    candidates: [
      {
        content: { parts: [{ text }], role: "model" },
        finishReason: extra.finishReason ?? "STOP",
        index: 0,
      },
    ],
    usageMetadata: {
      promptTokenCount: usage.input,
      candidatesTokenCount: usage.output,
      totalTokenCount: usage.input + usage.output + (usage.thoughts ?? 0),
      ...(usage.thoughts ? { thoughtsTokenCount: usage.thoughts } : {}),
    },
    modelVersion: extra.model ?? "gemini-2.5-flash",
    responseId: "fault-server",
  };
}

/** The request's text as the fault server hashes it: system instruction, then every part of every turn. */
export function geminiItem(body: Record<string, unknown>): string {
  const texts = (content: unknown) =>
    ((content as { parts?: { text?: string }[] } | undefined)?.parts ?? []).map((p) => p.text ?? "");
  const turns = Array.isArray(body.contents) ? body.contents : [];
  return [...texts(body.systemInstruction), ...turns.flatMap(texts)].join("\n");
}
