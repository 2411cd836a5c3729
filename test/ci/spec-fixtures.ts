// biome-ignore-all lint/suspicious/noTemplateCurlyInString: bash and devfile ${VAR} syntax, not JS templates
// Hand-built WorkspaceSpecs for the CI path's tests (the devfile engine builds them from files in production).
import type { WorkspaceSpec } from "../../src/devfile/spec.ts";
import { baseContainer, baseWorkspace } from "../support/spec.ts";

export const container = baseContainer;

export const workspace = baseWorkspace;

/** A spec like the registry's nodejs-mongodb stack: two containers, env, endpoints, a volume, events. */
export function nodejsMongo(): WorkspaceSpec {
  return workspace({
    name: "nodejs-mongodb",
    containers: [
      container("tools", {
        main: true,
        image: "registry.access.redhat.com/ubi8/nodejs-18:1-32",
        args: ["tail", "-f", "/dev/null"],
        env: [
          { name: "DEBUG_PORT", value: "5858" },
          { name: "GREETING", value: 'it\'s $HOME "quoted"' },
        ],
        endpoints: [
          {
            name: "nodejs",
            targetPort: 8080,
            exposure: "public",
            protocol: "https",
            secure: false,
            attributes: {},
          },
          {
            name: "debug",
            targetPort: 5858,
            exposure: "none",
            protocol: "http",
            secure: false,
            attributes: {},
          },
        ],
        memoryLimit: "1024Mi",
        volumeMounts: [{ name: "cache", path: "/home/user/.npm" }],
      }),
      container("mongo", {
        image: "mongo:7",
        env: [{ name: "MONGO_INITDB_DATABASE", value: "demo" }],
        endpoints: [
          {
            name: "mongodb",
            targetPort: 27017,
            exposure: "internal",
            protocol: "tcp",
            secure: false,
            attributes: {},
          },
        ],
        memoryLimit: "512Mi",
        volumeMounts: [{ name: "mongo-storage", path: "/data/db" }],
      }),
    ],
    volumes: [
      { name: "cache", size: "1Gi", ephemeral: false },
      { name: "mongo-storage", size: "256Mi", ephemeral: false },
    ],
    commands: [
      {
        kind: "exec",
        id: "install",
        component: "tools",
        commandLine: "npm install",
        workingDir: "${PROJECT_SOURCE}/app",
        env: [],
        hotReloadCapable: false,
      },
      {
        kind: "exec",
        id: "seed",
        component: "mongo",
        commandLine: "mongosh --eval 'db.demo.insert({})'",
        env: [],
        hotReloadCapable: false,
      },
      {
        kind: "exec",
        id: "goodbye",
        component: "tools",
        commandLine: "echo bye > /tmp/bye",
        env: [],
        hotReloadCapable: false,
      },
    ],
    events: { preStart: [], postStart: ["install", "seed"], preStop: ["goodbye"], postStop: [] },
  });
}
