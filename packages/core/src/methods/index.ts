export {
  cot,
  type LargeOnly,
  type LmGuidedOptions,
  lmGuided,
  type Method,
  type MethodOptions,
  majorityVote,
  methods,
  type SmallAndLarge,
  standard,
} from "./methods";
