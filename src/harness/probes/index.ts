import { archArm64 } from "./arch-arm64.ts";
import { commandExec } from "./command-exec.ts";
import { containerCommandArgs } from "./container-command-args.ts";
import { containerEnv } from "./container-env.ts";
import { containerImage } from "./container-image.ts";
import { containerMulti } from "./container-multi.ts";
import { containerResources } from "./container-resources.ts";
import { containerUser } from "./container-user.ts";
import { editorInjected } from "./editor-injected.ts";
import { endpointHttp } from "./endpoint-http.ts";
import { endpointInternal } from "./endpoint-internal.ts";
import { endpointTcp } from "./endpoint-tcp.ts";
import { endpointWebsocket } from "./endpoint-websocket.ts";
import { eventPostStart, eventPreStart } from "./event-commands.ts";
import { eventPreStop } from "./event-prestop.ts";
import { networkEgressPolicy, projectSource, registryPrivate } from "./not-on-this-tier.ts";
import type { AnyProbe } from "./probe.ts";
import { volumeEphemeral } from "./volume-ephemeral.ts";
import { volumePersistent } from "./volume-persistent.ts";
import { volumeShared } from "./volume-shared.ts";
import { workspaceRestart } from "./workspace-restart.ts";
import { workspaceStop } from "./workspace-stop.ts";
import { workspaceVariables } from "./workspace-variables.ts";

export type { AnyProbe, Probe, ProbeContext, ProbeOutcome, RestartProbe, StopProbe } from "./probe.ts";

/** One probe per feature of the catalog. */
export const PROBES: readonly AnyProbe[] = [
  containerImage,
  containerEnv,
  containerCommandArgs,
  containerMulti,
  containerResources,
  containerUser,
  volumeShared,
  volumePersistent,
  volumeEphemeral,
  projectSource,
  endpointHttp,
  endpointWebsocket,
  endpointInternal,
  endpointTcp,
  eventPreStart,
  eventPostStart,
  eventPreStop,
  commandExec,
  editorInjected,
  workspaceRestart,
  workspaceStop,
  workspaceVariables,
  archArm64,
  registryPrivate,
  networkEgressPolicy,
];
