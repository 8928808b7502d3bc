import { Redactor } from "@taster/core";
import { connectHost, deployStack, ensureSecrets, planRecipe, waitForConvergence } from "../src/index";

const h = await connectHost("unix:///var/run/docker.sock");
const stack = "trynotes" + process.pid;
const plan = await planRecipe(h, { dir: "/tmp/nt", stack, domain: "n.test" });
console.log(JSON.stringify({ ...plan, rendered: undefined }, null, 1).slice(0, 3000));
const r = new Redactor();
console.log(await ensureSecrets(h, plan, r));
console.log(await deployStack(h, plan, { version: "0.2.0+2.1", chaos: true, chaosVersion: "abc1234" }));
console.log(
  await waitForConvergence(h, plan, { onProgress: (m) => console.log(new Date().toISOString(), m) }),
);
console.log(stack);
await h.close();
