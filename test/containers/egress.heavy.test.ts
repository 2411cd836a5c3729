import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { connect, createServer, type Server } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  cleanupByLabel,
  hostAddressForContainers,
  WorkspaceContainer,
  WorkspaceNetwork,
} from "../../src/containers/index.ts";
import { ARCHES, localImageName } from "../../src/images/index.ts";
import { describeUnless } from "../support/skip.ts";
import { dockerForTests, NO_DOCKER_ENGINE } from "./docker-available.ts";

/**
 * An "outside host" that this test makes and then removes: a network namespace on a benchmarking address
 * (198.18.0.0/15, RFC 2544) that exists only on its veth link. The host reaches it, which shows the test
 * could fail; a container must not. No traffic goes to any address the test did not create.
 */
const docker = await dockerForTests();
const NAMESPACE = `wsp-outside-${process.pid}`;
const HOST_LINK = `wspo${process.pid % 100000}`;
const NAMESPACE_LINK = `wspi${process.pid % 100000}`;
const HOST_SIDE = "198.18.77.1";
const OUTSIDE_HOST = "198.18.77.2";
const OUTSIDE_PORT = 8080;
const GREETING = "outside host says hi";

const ip = (...args: string[]) => execFileSync("ip", args, { encoding: "utf8" });

function dropCounters(): Record<string, number> {
  const listing = execFileSync("iptables", ["-L", "WSPARITY-EGRESS", "-v", "-x", "-n"], { encoding: "utf8" });
  const counters: Record<string, number> = {};
  for (const line of listing.split("\n")) {
    const fields = line.trim().split(/\s+/);
    // pkts bytes target prot opt in out source destination
    if (fields[2] === "DROP" && fields[6] === "*") counters[fields[5]!] = Number(fields[0]);
  }
  return counters;
}

function readFrom(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString();
    });
    socket.on("end", () => resolve(text));
    socket.on("timeout", () =>
      socket.destroy(new Error(`no answer from ${host}:${port} in ${timeoutMs} ms`)),
    );
    socket.on("error", reject);
  });
}

/** Tries a TCP connection from inside a container with bash's /dev/tcp (every image has bash). */
function tryConnectCommand(host: string, port: number): string[] {
  return ["timeout", "4", "bash", "-c", `exec 3<>/dev/tcp/${host}/${port} && cat <&3`];
}

describeUnless(docker ? undefined : NO_DOCKER_ENGINE)("egress from test containers is blocked", () => {
  let outsideServer: ChildProcess | undefined;
  let gatewayServer: Server | undefined;

  beforeAll(async () => {
    ip("netns", "add", NAMESPACE);
    ip("link", "add", HOST_LINK, "type", "veth", "peer", "name", NAMESPACE_LINK);
    ip("link", "set", NAMESPACE_LINK, "netns", NAMESPACE);
    ip("addr", "add", `${HOST_SIDE}/30`, "dev", HOST_LINK);
    ip("link", "set", HOST_LINK, "up");
    ip("-n", NAMESPACE, "addr", "add", `${OUTSIDE_HOST}/30`, "dev", NAMESPACE_LINK);
    ip("-n", NAMESPACE, "link", "set", NAMESPACE_LINK, "up");
    const serve = `require("net").createServer((s) => s.end(${JSON.stringify(GREETING)})).listen(${OUTSIDE_PORT}, ${JSON.stringify(OUTSIDE_HOST)}, () => console.log("listening"))`;
    outsideServer = spawn("ip", ["netns", "exec", NAMESPACE, process.execPath, "-e", serve], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await once(outsideServer.stdout!, "data");
  });

  afterAll(async () => {
    outsideServer?.kill();
    gatewayServer?.close();
    await cleanupByLabel("own");
    // Deleting the namespace deletes its end of the veth pair, and with it the host's end.
    execFileSync("ip", ["netns", "del", NAMESPACE], { stdio: "ignore" });
  });

  it("the host itself reaches the outside host (so the checks below can fail)", async () => {
    expect(await readFrom(OUTSIDE_HOST, OUTSIDE_PORT)).toBe(GREETING);
  });

  it.each(ARCHES)(
    "a %s container on the default bridge cannot connect to it; the egress rule drops it",
    async (arch) => {
      const before = dropCounters();
      const container = await new WorkspaceContainer(localImageName("base", arch))
        .withPlatform(arch)
        .withCommand(tryConnectCommand(OUTSIDE_HOST, OUTSIDE_PORT))
        .start();
      const exitCode = await container.wait();
      const { stdout } = await container.logs();
      expect(stdout).not.toContain(GREETING);
      expect(exitCode).not.toBe(0);
      expect(dropCounters().docker0).toBeGreaterThan(before.docker0 ?? 0);
    },
  );

  it("a container on a project network cannot connect to it either", async () => {
    const network = await new WorkspaceNetwork(`wsparity-egress-${process.pid}`).create();
    const before = dropCounters();
    const container = await new WorkspaceContainer(localImageName("base", "amd64"))
      .withNetwork(network)
      .withCommand(tryConnectCommand(OUTSIDE_HOST, OUTSIDE_PORT))
      .start();
    expect(await container.wait()).not.toBe(0);
    expect((await container.logs()).stdout).not.toContain(GREETING);
    expect(dropCounters()["br-+"]).toBeGreaterThan(before["br-+"] ?? 0);
  });

  it("containers still reach services on the host (the simulators) through the bridge's gateway", async () => {
    const gateway = await hostAddressForContainers();
    gatewayServer = createServer((socket) => socket.end("host service"));
    gatewayServer.listen(0, gateway);
    await once(gatewayServer, "listening");
    const port = (gatewayServer.address() as { port: number }).port;
    const container = await new WorkspaceContainer(localImageName("base", "amd64"))
      .withExtraHost("host.docker.internal", "host-gateway")
      .withCommand(tryConnectCommand("host.docker.internal", port))
      .start();
    expect(await container.wait()).toBe(0);
    expect((await container.logs()).stdout).toBe("host service");
  });

  it("ports published on 127.0.0.1 keep working", async () => {
    const server = await new WorkspaceContainer(localImageName("node", "amd64"))
      .withCommand(["node", "-e", "require('net').createServer((s) => s.end('published')).listen(9000)"])
      .withPublishedPort(9000)
      .start();
    const port = await server.hostPort(9000);
    let answer = "";
    for (let attempt = 0; attempt < 50 && answer !== "published"; attempt++) {
      answer = await readFrom("127.0.0.1", port).catch(() => "");
      if (answer !== "published") await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(answer).toBe("published");
  });
});
