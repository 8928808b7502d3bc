import Docker from "dockerode";

const d = new Docker();
const s = await d.getService(process.argv[2]!).inspect();
const t = (await d.listTasks({ filters: { service: [process.argv[2]!] } }))[0];
console.log(JSON.stringify(s.Spec.TaskTemplate));
console.log(JSON.stringify(t.Spec));
