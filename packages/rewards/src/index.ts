// The Node entry: the browser entry's API plus the reward server.
export * from "./browser";
export { type RewardServer, type RewardServerOptions, startRewardServer } from "./server";
