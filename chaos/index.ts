export { brokenInvariants, type Expectation, verdictOf } from "./invariants";
export { SCENARIOS, type Scenario } from "./scenarios/index";
export {
  type ChaosOptions,
  formatRow,
  formatTotal,
  runChaos,
  type ScoreRow,
  selectScenarios,
} from "./scorecard";
export { startWorld, type World } from "./world";
