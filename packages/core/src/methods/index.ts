export {
  cot,
  type LargeOnly,
  type LmGuidedOptions,
  lmGuided,
  type Method,
  type MethodOptions,
  majorityVote,
  methodPromptVersion,
  methods,
  type SmallAndLarge,
  standard,
} from "./methods";
