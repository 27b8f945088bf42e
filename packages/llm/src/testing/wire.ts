// Response and error bodies as OpenAI (chat and legacy completions) and Anthropic write them.

const OPENAI_ERRORS: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: "invalid_request_error", code: null, message: "Invalid request." },
  401: { type: "invalid_request_error", code: "invalid_api_key", message: "Incorrect API key provided." },
  404: {
    type: "invalid_request_error",
    code: "model_not_found",
    message: "The model does not exist or you do not have access to it.",
  },
  429: { type: "requests", code: "rate_limit_exceeded", message: "Rate limit reached for requests." },
  500: {
    type: "server_error",
    code: null,
    message: "The server had an error while processing your request. Sorry about that!",
  },
  503: {
    type: "server_error",
    code: null,
    message: "The engine is currently overloaded, please try again later.",
  },
};

const ANTHROPIC_ERRORS: Record<number, { type: string; message: string }> = {
  400: { type: "invalid_request_error", message: "Invalid request." },
  401: { type: "authentication_error", message: "invalid x-api-key" },
  403: { type: "permission_error", message: "Your API key does not have permission to use this resource." },
  404: { type: "not_found_error", message: "model not found" },
  429: { type: "rate_limit_error", message: "Number of request tokens has exceeded your rate limit." },
  500: { type: "api_error", message: "Internal server error" },
  503: { type: "overloaded_error", message: "Overloaded" },
  529: { type: "overloaded_error", message: "Overloaded" },
};

/** `{ error: { message, type, param, code } }` with the type and code OpenAI gives that status. */
export function openaiErrorBody(status: number, message?: string) {
  const known = OPENAI_ERRORS[status] ?? (status >= 500 ? OPENAI_ERRORS[500]! : OPENAI_ERRORS[400]!);
  return { error: { message: message ?? known.message, type: known.type, param: null, code: known.code } };
}

/** `{ type: "error", error: { type, message } }` with the type Anthropic gives that status. */
export function anthropicErrorBody(status: number, message?: string, type?: string) {
  const known = ANTHROPIC_ERRORS[status] ?? (status >= 500 ? ANTHROPIC_ERRORS[500]! : ANTHROPIC_ERRORS[400]!);
  return { type: "error", error: { type: type ?? known.type, message: message ?? known.message } };
}

/** Whitespace-led word pieces, the way the tests' fake tokenizers split text. */
const pieces = (text: string) => text.match(/\s*\S+/g) ?? [];

/** A stable fake token id for a piece (vLLM's `return_tokens_as_token_ids` spelling). */
const tokenId = (piece: string) =>
  `token_id:${[...piece].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 32_000, 7)}`;

/**
 * A legacy `/v1/completions` body as vLLM writes it: `n` choices of `text`, with `logprobs`
 * (tokens, token_logprobs, text_offset) when asked; `max_tokens` cuts `text` (finish reason
 * `length`); `echo` prepends the prompt, its first token's log-prob null, as servers score with.
 */
export function completionsBody(request: Record<string, unknown>, text: string) {
  const prompt = Array.isArray(request.prompt) ? request.prompt.join("") : String(request.prompt ?? "");
  const all = pieces(text);
  const max = typeof request.max_tokens === "number" ? request.max_tokens : all.length;
  const generated = all.slice(0, max).join("");
  const full = request.echo ? prompt + generated : generated;
  const tokens = pieces(full);
  const offsets = tokens.map((_, i) => tokens.slice(0, i).join("").length);
  const asIds = request.return_tokens_as_token_ids === true;
  const logprobs =
    request.logprobs !== undefined && request.logprobs !== null
      ? {
          tokens: tokens.map((t) => (asIds ? tokenId(t) : t)),
          token_logprobs: tokens.map((_, i) => (request.echo && i === 0 ? null : -0.25 * ((i % 4) + 1))),
          text_offset: offsets,
          top_logprobs: null,
        }
      : null;
  const n = Number(request.n ?? 1);
  const completionTokens = pieces(generated).length;
  return {
    id: "cmpl-fault",
    object: "text_completion",
    created: 1_700_000_000,
    model: String(request.model ?? "model"),
    choices: Array.from({ length: n }, (_, index) => ({
      index,
      text: full,
      finish_reason: max < all.length ? "length" : "stop",
      logprobs,
    })),
    usage: {
      prompt_tokens: pieces(prompt).length,
      completion_tokens: n * completionTokens,
      total_tokens: pieces(prompt).length + n * completionTokens,
    },
  };
}
