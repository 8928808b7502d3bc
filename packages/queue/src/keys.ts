/** Every Redis key Taster's queue layer writes, under one prefix so tests and deployments never collide. */
export class Keys {
  constructor(readonly prefix: string) {}

  delivery = (forge: string, deliveryId: string) => `${this.prefix}:seen:delivery:${forge}:${deliveryId}`;
  comment = (forge: string, repo: string, commentId: number) =>
    `${this.prefix}:seen:comment:${forge}:${repo}:${commentId}`;
  intakeDelivery = (forge: string, deliveryId: string) =>
    `${this.prefix}:intake:delivery:${forge}:${deliveryId}`;
  intakeComment = (forge: string, repo: string, commentId: number) =>
    `${this.prefix}:intake:comment:${forge}:${repo}:${commentId}`;
  /** Stream: commands the webhook answers took in, until the intake moves them into its queue. */
  intakeInbox = () => `${this.prefix}:intake:inbox`;
  once = (name: string) => `${this.prefix}:once:${name}`;
  pull = (forge: string, repo: string, pr: number) => `${this.prefix}:pr:${forge}:${repo}#${pr}`;
  /** Sorted set: every run of one PR, scored by creation time (ms): its history page, retry, failed. */
  pullRuns = (forge: string, repo: string, pr: number) => `${this.prefix}:pr-runs:${forge}:${repo}#${pr}`;
  /** Sorted set: head shas a PR's `pull_request` webhooks announced, scored by receive time (ms). */
  pushes = (forge: string, repo: string, pr: number) => `${this.prefix}:pushes:${forge}:${repo}#${pr}`;
  runSeq = () => `${this.prefix}:run-seq`;
  run = (runId: string) => `${this.prefix}:run:${runId}`;
  runPrefix = () => `${this.prefix}:run:`;
  runs = () => `${this.prefix}:runs`;
  log = (runId: string) => `${this.prefix}:log:${runId}`;
  /** Pub/sub channel: `{"runId","by"}` when a newer sha supersedes a run. */
  supersededChannel = () => `${this.prefix}:superseded`;
}
