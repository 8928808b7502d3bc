import type { Host } from "./host";

/** The fields of a swarm task that Taster reads (dockerode types tasks as `any`). */
export interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  DesiredState: string;
  CreatedAt?: string;
  Spec?: unknown;
  Status: {
    Timestamp?: string;
    State: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
}

/** Tasks of one service; a name filter may also match by prefix, so keep only that service's id. */
export async function listServiceTasks(
  host: Host,
  serviceName: string,
  serviceId?: string | Promise<string>,
): Promise<SwarmTask[]> {
  // Both requests at once: the id (when the caller is still fetching it) only filters the answer.
  const [id, tasks] = await Promise.all([
    serviceId ??
      host.docker
        .getService(serviceName)
        .inspect()
        .then((service: { ID: string }) => service.ID),
    host.docker.listTasks({ filters: { service: [serviceName] } }) as Promise<SwarmTask[]>,
  ]);
  return tasks.filter((task) => task.ServiceID === id);
}

export const taskTime = (task: SwarmTask): number =>
  Date.parse(task.Status.Timestamp ?? task.CreatedAt ?? "") || 0;

/** Container ids of a service's running tasks that should stay running, newest first. */
export async function runningContainers(host: Host, serviceName: string): Promise<string[]> {
  return (await listServiceTasks(host, serviceName))
    .filter((task) => task.DesiredState === "running" && task.Status.State === "running")
    .sort((a, b) => taskTime(b) - taskTime(a))
    .map((task) => task.Status.ContainerStatus?.ContainerID)
    .filter((id): id is string => Boolean(id));
}
