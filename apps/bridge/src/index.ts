export { type Bridge, type BridgeOptions, createBridge, yieldCpuToWebhookAnswers } from "./app";
export { CommentHandler, type Processed } from "./comments";
export {
  type BridgeConfig,
  type BridgeRole,
  type EnrolledRepo,
  type HostConfig,
  hostFor,
  loadBridgeConfig,
  parseHosts,
  recipeOf,
} from "./config";
export { type Accepted, Intake } from "./intake";
export { BridgeMetrics } from "./metrics";
export { type ReconcileReport, Reconciler } from "./reconciler";
