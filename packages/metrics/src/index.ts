export { type Aggregate, aggregate, type RunAggregate, type ScoredItem } from "./aggregate";
export { type AnswerScore, exactMatch, f1Score, scoreAnswer } from "./answer";
export {
  evidenceScore,
  evidenceScoreV10,
  evidenceSlots,
  type FactPair,
  type SetScore,
  supportingFactScore,
} from "./facts";
export { normalizeAnswer, normalizeEvidenceText, pythonSplit, removePunctuation } from "./normalize";
export {
  type OfficialGold,
  type OfficialMetrics,
  type OfficialPrediction,
  type OfficialResult,
  officialEval,
  pythonRound,
} from "./official";
export {
  type BootstrapOptions,
  bootstrapCI,
  bootstrapCIs,
  type ConfidenceInterval,
  mean,
  type PairedTestResult,
  pairedTest,
  seededRandom,
} from "./stats";
