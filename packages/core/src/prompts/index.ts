export {
  approximateTokens,
  type ContextOptions,
  formatContext,
  selectParagraphs,
  type TokenCounter,
} from "./context";
export { extractAnswer, parseTeacherOutput, type TeacherOutput } from "./extract";
export { fnv1a } from "./hash";
export { type ParsedPrompt, parsePrompt } from "./parse";
export {
  answerPrompt,
  type ChatPrompt,
  cotPrompt,
  type Exemplar,
  type PromptTemplate,
  promptVersion,
  rationalePrompt,
  standardPrompt,
  type TemplateOptions,
  teacherPrompt,
} from "./templates";
