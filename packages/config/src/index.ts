export { CONFIG_DOC_COMMAND, CONFIG_DOC_PATH, configurationPage } from "./doc";
export type { GithubAppConfig } from "./github-app";
export { type EnrolledRepo, HOST_NAME, type Host, list, parseEnrolled, parseHosts, parseMap } from "./hosts";
export {
  type BridgeRole,
  collectConfig,
  configProblems,
  type MinPermission,
  readConfig,
  readVariable,
  type TasterConfig,
  tasterRoot,
} from "./read";
export {
  DEFAULT_DOCKER_HOST,
  DEFAULT_RECIPE_SOURCE,
  DEFAULT_REDIS_URL,
  DEFAULT_SWEEP_SCHEDULE,
  defaultHosts,
  INTERNAL_VARIABLES,
  type Section,
  VARIABLES,
  type Variable,
  type VariableName,
} from "./schema";
