export {
  formatHost,
  formatPath,
  isWorkspaceName,
  parseConnectAuthority,
  parseHostAddress,
  parsePathAddress,
  type WorkspaceAddress,
} from "./address.ts";
export type { AgentRegistry, AgentRoute, AgentWorkspace } from "./agent-registry.ts";
export { makeThrowawayCert, type ThrowawayCert } from "./certs.ts";
export { ConnectRefused, type ConnectTunnelOptions, openConnectTunnel } from "./connect-client.ts";
export { lineLog, silentLog, type TunnelLog } from "./log.ts";
export type { TunnelMetrics } from "./metrics.ts";
export { AGENT_WEBSOCKET_PATH, PROTOCOL } from "./protocol.ts";
export { RouteError, RouteTable, type WorkspaceRoute } from "./routes.ts";
export {
  DEFAULT_LIMITS,
  type ListenerSpec,
  type StartedTunnelServer,
  type TlsMaterial,
  type TunnelLimits,
  TunnelServerBuilder,
} from "./server.ts";
export { SESSION_COOKIE, SIGN_IN_QUERY } from "./sign-in.ts";
