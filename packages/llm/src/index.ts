export { choiceOptions, ExtractiveReader, extractiveAnswer } from "./providers/extractive";
