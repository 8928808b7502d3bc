/** Label every object Taster deploys carries, so janitor and residue checks can find it. */
export const STACK_LABEL = "taster.stack";
/** The label `docker stack deploy` puts on every stack object. */
export const NAMESPACE_LABEL = "com.docker.stack.namespace";

/** abra's per-stack labels on the app service: `coop-cloud.<stack>.<name>`. */
export const appLabel = (stack: string, name: "version" | "chaos" | "chaos-version" | "timeout") =>
  `coop-cloud.${stack}.${name}`;
