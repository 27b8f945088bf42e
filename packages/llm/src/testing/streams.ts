import type { WireApi } from "./fault-server";

type Body = Record<string, unknown>;
interface Chat {
  choices: { message: { content: string }; finish_reason: string }[];
}
interface Messages {
  content: { text?: string }[];
  usage: { output_tokens: number };
  stop_reason: string;
}

/**
 * A successful JSON reply re-cut as the server-sent events the same API streams: OpenAI chat chunks
 * (the text, the finish reason, the usage, `[DONE]`), Anthropic message events, or Gemini's one
 * `generateContent` body per event.
 */
export function sseEvents(api: WireApi, body: Body, request: Body = {}): { event?: string; data: unknown }[] {
  if (api === "gemini") return [{ data: body }];
  if (api === "messages") {
    const m = body as unknown as Messages;
    const text = m.content.map((b) => b.text ?? "").join("");
    return [
      {
        event: "message_start",
        data: {
          type: "message_start",
          message: { ...body, content: [], stop_reason: null, usage: { ...m.usage, output_tokens: 1 } },
        },
      },
      {
        event: "content_block_start",
        data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      },
      {
        event: "content_block_delta",
        data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } },
      },
      { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
      {
        event: "message_delta",
        data: {
          type: "message_delta",
          delta: { stop_reason: m.stop_reason, stop_sequence: null },
          usage: { output_tokens: m.usage.output_tokens },
        },
      },
      { event: "message_stop", data: { type: "message_stop" } },
    ];
  }
  const choice = (body as unknown as Chat).choices[0]!;
  const includeUsage =
    (request.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  const chunk = (choices: unknown[], extra: Body = {}) => ({
    id: body.id,
    object: "chat.completion.chunk",
    created: body.created,
    model: body.model,
    choices,
    ...extra,
  });
  return [
    {
      data: chunk([
        { index: 0, delta: { role: "assistant", content: choice.message.content }, finish_reason: null },
      ]),
    },
    // Servers without OpenAI's `stream_options` (Mistral) put the usage on the last chunk.
    ...(includeUsage
      ? [
          { data: chunk([{ index: 0, delta: {}, finish_reason: choice.finish_reason }]) },
          { data: chunk([], { usage: body.usage }) },
        ]
      : [
          {
            data: chunk([{ index: 0, delta: {}, finish_reason: choice.finish_reason }], {
              usage: body.usage,
            }),
          },
        ]),
    { data: "[DONE]" },
  ];
}
