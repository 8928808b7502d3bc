export { type Bridge, type BridgeOptions, createBridge } from "./app";
export { CommentHandler, type Handled } from "./comments";
export {
  type BridgeConfig,
  type EnrolledRepo,
  type HostConfig,
  hostFor,
  loadBridgeConfig,
  parseHosts,
  recipeOf,
} from "./config";
export { BridgeMetrics } from "./metrics";
export { type ReconcileReport, Reconciler } from "./reconciler";
