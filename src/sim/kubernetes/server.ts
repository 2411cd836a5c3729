// The Kubernetes API server of the simulator: REST, watch, apply, discovery, logs, exec and port-forward on one HTTP
// listener.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import type { KubeObject } from "../../kubernetes/objects.ts";
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from "./discovery.ts";
import { ApiError, badRequest, invalid, notFound } from "./errors.ts";
import { EXEC_PROTOCOLS, serveExec } from "./exec-websocket.ts";
import { checkApplied, decodeKind, fieldValidationOf } from "./go-decode.ts";
import { planApply, recordUpdate } from "./managed-fields.ts";
import {
  decodeBody,
  encodeBody,
  type Format,
  mediaTypeOf,
  negotiate,
  notAcceptable,
  readRaw,
  unsupportedMediaType,
} from "./media.ts";
import { openApiV2Document, openApiV2Protobuf, openApiV3Document, openApiV3Index } from "./openapi.ts";
import { OPENAPI_V2_PROTOBUF, wantsOpenApiV2Protobuf } from "./openapi-v2-protobuf.ts";
import { jsonMergePatch, jsonPatch, strategicMergePatch } from "./patch.ts";
import {
  channelPorts,
  PORT_FORWARD_CHANNEL_PROTOCOLS,
  PORT_FORWARD_PROTOCOL,
  type PortForwardTarget,
  SPDY_TUNNEL_PROTOCOL,
  serveChannelPortForward,
  serveSpdyPortForward,
  serveTunnelledPortForward,
} from "./port-forward.ts";
import { encodeWatchFrame, PROTOBUF } from "./protobuf.ts";
import { apiVersionOf, type ResourceType, typeByPlural } from "./resources.ts";
import type { PodRuntime } from "./runtime.ts";
import { SCALABLE, scaleOf, withScale } from "./scale.ts";
import { parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import type { ObjectStore, Propagation } from "./store.ts";
import { toTable } from "./table.ts";
import { ephemeralContainerCauses } from "./validation.ts";

interface Route {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface ApiServerOptions {
  store: ObjectStore;
  token: string;
  runtime?: PodRuntime;
  /** Serve HTTPS with this certificate; kubectl sends the bearer token only over TLS. */
  tls?: { cert: string; key: string };
}

export class KubernetesApiServer {
  private readonly server: Server;
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered, req) =>
      (isPortForward(req) ? PORT_FORWARD_CHANNEL_PROTOCOLS : EXEC_PROTOCOLS).find((p) => offered.has(p)) ??
      false,
  });
  /**
   * kubectl's tunnelling subprotocol, SPDY/3.1+portforward.k8s.io, is not an RFC 6455 token ("/" is a separator) and
   * ws refuses it in a request; Go's servers accept it. This server takes the upgrade without it and names it in the
   * response, where kubectl reads it.
   */
  private readonly tunnelWss = new WebSocketServer({ noServer: true }).on("headers", (headers) => {
    headers.push(`Sec-WebSocket-Protocol: ${SPDY_TUNNEL_PROTOCOL}`);
  });
  private readonly open = new Set<ServerResponse>();
  /** The response format each request negotiated (its Accept header). */
  private readonly formats = new WeakMap<ServerResponse, Format>();

  constructor(private readonly opts: ApiServerOptions) {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      this.open.add(res);
      res.on("close", () => this.open.delete(res));
      this.handle(req, res).catch((err) => this.fail(res, err));
    };
    this.server = opts.tls ? createHttpsServer(opts.tls, onRequest) : createHttpServer(onRequest);
    this.server.on("upgrade", (req, socket, head) => {
      this.upgrade(req, socket, head).catch((err) => {
        const status = err instanceof ApiError ? err : new ApiError(500, "InternalError", String(err));
        socket.end(
          `HTTP/1.1 ${status.code} ${status.reason}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify(status.toStatus())}`,
        );
      });
    });
  }

  /** Listens (port 0: any free port) and returns the URL of the address bound. */
  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    return `${this.opts.tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    for (const ws of [...this.wss.clients, ...this.tunnelWss.clients]) ws.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private authorize(req: IncomingMessage): void {
    const auth = req.headers.authorization ?? "";
    if (auth !== `Bearer ${this.opts.token}`) {
      throw new ApiError(401, "Unauthorized", "Unauthorized");
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Go's net/http refuses a request-target with a bad %-escape before kube-apiserver sees it.
    if (BAD_ESCAPE.test((req.url ?? "/").split("?")[0]!)) {
      res.writeHead(400, { "Content-Type": "text/plain; charset=utf-8", Connection: "close" });
      return void res.end("400 Bad Request");
    }
    const url = new URL(req.url ?? "/", "http://sim");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (path === "/healthz" || path === "/readyz" || path === "/livez") return this.text(res, 200, "ok");
    this.authorize(req);
    // Discovery and OpenAPI documents are JSON whatever else is asked; resources refuse an Accept they cannot meet.
    const format = negotiate(req.headers.accept);
    const host = req.headers.host ?? "127.0.0.1";
    if (path === "/version") return this.json(res, 200, SERVER_VERSION);
    if (path === "/api") return this.json(res, 200, apiVersions(host));
    if (path === "/apis") return this.json(res, 200, apiGroupList());
    if (path === "/openapi/v2") {
      if (!wantsOpenApiV2Protobuf(req.headers.accept)) return this.json(res, 200, openApiV2Document());
      res.writeHead(200, { "Content-Type": OPENAPI_V2_PROTOBUF });
      return void res.end(openApiV2Protobuf());
    }
    if (path === "/openapi/v3") return this.json(res, 200, openApiV3Index());
    const openapi = path.match(/^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/);
    if (openapi) {
      const doc = openapi[1]
        ? openApiV3Document("", openapi[1])
        : openApiV3Document(openapi[2]!, openapi[3]!);
      if (!doc) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
      return this.json(res, 200, doc);
    }
    if (path === "/api/v1") return this.json(res, 200, apiResourceList("", "v1"));
    const group = path.match(/^\/apis\/([^/]+)$/);
    if (group) {
      const g = apiGroup(group[1]!);
      if (!g) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
      return this.json(res, 200, g);
    }
    const groupVersion = path.match(/^\/apis\/([^/]+)\/([^/]+)$/);
    if (groupVersion) {
      const list = apiResourceList(groupVersion[1]!, groupVersion[2]!);
      if (!list) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
      return this.json(res, 200, list);
    }
    const route = this.route(path);
    if (!format) throw notAcceptable();
    this.formats.set(res, format);
    const method = req.method ?? "GET";
    if (route.rt.review) return this.review(req, res, route, url);
    if (route.subresource === "log" && method === "GET") return this.logs(route, url, res);
    if (route.subresource === "exec" || route.subresource === "attach")
      throw badRequest(
        `${route.subresource} needs a WebSocket upgrade (v5.channel.k8s.io or v4.channel.k8s.io)`,
      );
    if (route.subresource === "portforward")
      throw badRequest(`portforward needs an upgrade (WebSocket ${SPDY_TUNNEL_PROTOCOL} or SPDY/3.1)`);
    if (route.subresource === "ephemeralcontainers" && route.rt.kind === "Pod" && route.name) {
      return this.ephemeralContainers(req, res, { ...route, name: route.name }, url, method);
    }
    if (route.subresource === "scale" && SCALABLE.has(route.rt.kind) && route.name) {
      return this.scale(req, res, route, url);
    }
    if (route.subresource && route.subresource !== "status") {
      throw new ApiError(
        404,
        "NotFound",
        `the server could not find the requested resource (${route.subresource})`,
      );
    }
    const dryRun = url.searchParams.getAll("dryRun").includes("All");
    const store = this.opts.store;
    const { rt } = route;
    switch (method) {
      case "GET": {
        if (route.name) return this.respondObject(req, res, rt, store.get(rt, route.namespace, route.name));
        if (["true", "1"].includes(url.searchParams.get("watch") ?? ""))
          return this.watch(req, res, route, url);
        return this.list(req, res, route, url);
      }
      case "POST": {
        if (route.name) throw new ApiError(405, "MethodNotAllowed", "POST is not allowed on a named object");
        const body = this.decode(res, rt, await readBody(req), url);
        body.metadata ??= { name: "" };
        if (rt.namespaced) body.metadata.namespace ??= route.namespace;
        if (rt.namespaced && body.metadata.namespace !== route.namespace) {
          throw badRequest(
            "the namespace of the provided object does not match the namespace sent on the request",
          );
        }
        body.metadata.managedFields = recordUpdate(undefined, body, managerOf(req, url), apiVersionOf(rt));
        if (dryRun) return this.json(res, 201, body);
        return this.json(res, 201, store.create(rt, body));
      }
      case "PUT": {
        const body = this.decode(res, rt, await readBody(req), url);
        body.metadata ??= { name: "" };
        if (rt.namespaced) body.metadata.namespace ??= route.namespace;
        if (body.metadata?.name !== route.name)
          throw badRequest("the name of the object does not match the URL");
        body.metadata.managedFields = recordUpdate(
          store.get(rt, route.namespace, route.name),
          body,
          managerOf(req, url),
          apiVersionOf(rt),
          route.subresource,
        );
        if (dryRun) return this.json(res, 200, body);
        return this.json(res, 200, store.update(rt, body, { status: route.subresource === "status" }));
      }
      case "PATCH":
        return this.patch(req, res, route, url, dryRun);
      case "DELETE": {
        if (!route.name) {
          const select = selectorOf(url);
          const gone = store
            .list(rt, route.namespace, select)
            .map((o) => store.delete(rt, o.metadata.namespace, o.metadata.name));
          return this.json(res, 200, listOf(rt, gone, store.resourceVersion));
        }
        const opts = (await readBody(req)) as
          | { gracePeriodSeconds?: number; propagationPolicy?: string; orphanDependents?: boolean }
          | undefined;
        const grace = url.searchParams.get("gracePeriodSeconds") ?? opts?.gracePeriodSeconds;
        const force = grace !== undefined && grace !== null && Number(grace) === 0;
        const propagation = propagationOf(
          url.searchParams.get("propagationPolicy") ?? opts?.propagationPolicy,
          opts,
        );
        if (dryRun) return this.json(res, 200, store.get(rt, route.namespace, route.name));
        return this.json(res, 200, store.delete(rt, route.namespace, route.name, { force, propagation }));
      }
      default:
        throw new ApiError(405, "MethodNotAllowed", `method ${method} is not allowed`);
    }
  }

  private async patch(req: IncomingMessage, res: ServerResponse, route: Route, url: URL, dryRun: boolean) {
    const { rt } = route;
    const store = this.opts.store;
    if (!route.name) throw new ApiError(405, "MethodNotAllowed", "PATCH needs a named object");
    const type = mediaTypeOf(req);
    const status = route.subresource === "status";
    if (type === "application/apply-patch+yaml" || type === "application/apply-patch+cbor") {
      const manager = url.searchParams.get("fieldManager");
      if (!manager) throw badRequest("PATCH request with apply-patch content type requires a fieldManager");
      if (type === "application/apply-patch+cbor") throw unsupportedMediaType(PATCH_TYPES);
      const applied = (await readBody(req, "application/yaml")) as KubeObject;
      this.checkKind(rt, applied);
      checkApplied(apiVersionOf(rt), rt.kind, {
        ...applied,
        metadata: { ...(route.namespace ? { namespace: route.namespace } : {}), ...applied.metadata },
      });
      if (applied.metadata?.name !== route.name)
        throw badRequest("the name of the object does not match the URL");
      if (rt.namespaced) applied.metadata.namespace ??= route.namespace;
      const { resourceVersion: _ignored, managedFields: _fields, ...appliedMeta } = applied.metadata;
      const config = { ...applied, metadata: appliedMeta };
      const live = store.find(rt, route.namespace, route.name);
      const force = url.searchParams.get("force") === "true";
      const { base, managedFields } = planApply(live, config, manager, apiVersionOf(rt), force);
      const merged = (live ? strategicMergePatch(base, config) : structuredClone(config)) as KubeObject;
      merged.metadata.managedFields = managedFields;
      if (!live) {
        if (dryRun) return this.json(res, 201, merged);
        return this.json(res, 201, store.create(rt, merged));
      }
      merged.metadata.resourceVersion = live.metadata.resourceVersion;
      if (dryRun) return this.json(res, 200, merged);
      return this.json(res, 200, store.update(rt, merged, { status }));
    }
    const live = store.get(rt, route.namespace, route.name);
    const body = await readBody(req, "application/json");
    let next = patched(type, live, body);
    next = this.decode(res, rt, next, url);
    // A patch that removes metadata leaves an object that no longer names the one in the URL.
    if (!isPlainObject(next.metadata) || next.metadata.name !== route.name)
      throw badRequest("the name of the object does not match the URL");
    if (!(body as KubeObject)?.metadata?.resourceVersion)
      next.metadata.resourceVersion = live.metadata.resourceVersion;
    next.metadata.managedFields = recordUpdate(
      live,
      next,
      managerOf(req, url),
      apiVersionOf(rt),
      route.subresource,
    );
    if (dryRun) return this.json(res, 200, next);
    return this.json(res, 200, store.update(rt, next, { status }));
  }

  /**
   * pods/ephemeralcontainers (what kubectl debug patches): only spec.ephemeralContainers changes, and the ones already
   * there can be neither removed nor changed (pkg/apis/core/validation: ValidatePodEphemeralContainersUpdate).
   */
  private async ephemeralContainers(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route & { name: string },
    url: URL,
    method: string,
  ): Promise<void> {
    const { rt } = route;
    const store = this.opts.store;
    const live = store.get(rt, route.namespace, route.name);
    if (method === "GET") return this.json(res, 200, live);
    let next: KubeObject;
    if (method === "PATCH") next = patched(mediaTypeOf(req), live, await readBody(req, "application/json"));
    else if (method === "PUT") next = (await readBody(req)) as KubeObject;
    else throw new ApiError(405, "MethodNotAllowed", `method ${method} is not allowed`);
    next = this.decode(res, rt, next, url);
    const before: KubeObject[] = live.spec?.ephemeralContainers ?? [];
    const after: KubeObject[] = next.spec?.ephemeralContainers ?? [];
    const causes = ephemeralContainerCauses(live, before, after);
    if (causes.length) throw invalid("Pod", "", route.name, causes);
    const updated = {
      ...live,
      spec: { ...live.spec, ephemeralContainers: after },
      metadata: {
        ...live.metadata,
        managedFields: recordUpdate(live, next, managerOf(req, url), apiVersionOf(rt), route.subresource),
      },
    };
    if (url.searchParams.getAll("dryRun").includes("All")) return this.json(res, 200, updated);
    return this.json(res, 200, store.update(rt, updated));
  }

  /**
   * Access and identity reviews (kubectl auth can-i, auth whoami): the simulator has one bearer token and it is the
   * cluster's admin, so every review is allowed and names that user — which is what the token is.
   */
  private async review(req: IncomingMessage, res: ServerResponse, route: Route, url: URL): Promise<void> {
    if (req.method !== "POST" || route.name) {
      throw new ApiError(
        405,
        "MethodNotAllowed",
        `the server does not allow this method on the requested resource`,
      );
    }
    const body = this.decode(res, route.rt, (await readBody(req)) ?? {}, url);
    const status =
      route.rt.kind === "SelfSubjectAccessReview"
        ? { allowed: true, reason: "the simulator's token is its cluster admin (system:masters)" }
        : route.rt.kind === "SelfSubjectRulesReview"
          ? {
              resourceRules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }],
              nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }],
              incomplete: false,
            }
          : { userInfo: { username: ADMIN_USER, groups: ["system:masters", "system:authenticated"] } };
    this.json(res, 201, {
      ...body,
      apiVersion: apiVersionOf(route.rt),
      kind: route.rt.kind,
      metadata: {},
      status,
    });
  }

  private async scale(req: IncomingMessage, res: ServerResponse, route: Route, url: URL): Promise<void> {
    const store = this.opts.store;
    const live = store.get(route.rt, route.namespace, route.name!);
    const method = req.method ?? "GET";
    if (method === "GET") return this.json(res, 200, scaleOf(live));
    const type = mediaTypeOf(req);
    const body = (await readBody(req, method === "PATCH" ? "application/json" : undefined)) as KubeObject;
    let wanted: KubeObject;
    if (method === "PUT") wanted = body;
    else if (method === "PATCH" && type === "application/json-patch+json")
      wanted = jsonPatch(scaleOf(live), body as never);
    else if (method === "PATCH") wanted = jsonMergePatch(scaleOf(live), body);
    else throw new ApiError(405, "MethodNotAllowed", `method ${method} is not allowed on scale`);
    let next: KubeObject;
    try {
      next = withScale(live, wanted);
    } catch (err) {
      throw invalid("Scale", "autoscaling", route.name!, [
        { reason: "FieldValueInvalid", field: "spec.replicas", message: (err as Error).message },
      ]);
    }
    next.metadata.managedFields = recordUpdate(
      live,
      next,
      managerOf(req, url),
      apiVersionOf(route.rt),
      "scale",
    );
    this.json(res, 200, scaleOf(store.update(route.rt, next)));
  }

  private list(req: IncomingMessage, res: ServerResponse, route: Route, url: URL): void {
    const store = this.opts.store;
    const rv = store.resourceVersion;
    let items = store.list(route.rt, route.namespace, selectorOf(url), true);
    const limit = Number(url.searchParams.get("limit") ?? 0);
    const start = Number(url.searchParams.get("continue") || 0);
    let cont: string | undefined;
    if (limit > 0) {
      const page = items.slice(start, start + limit);
      if (start + limit < items.length) cont = String(start + limit);
      items = page;
    }
    if (wantsTable(req)) {
      this.table(res, 200, toTable(route.rt, items, rv, url.searchParams.get("includeObject") ?? "Metadata"));
      return;
    }
    const list = listOf(route.rt, items, rv);
    if (cont) (list.metadata as Record<string, unknown>).continue = cont;
    this.json(res, 200, list);
  }

  private watch(req: IncomingMessage, res: ServerResponse, route: Route, url: URL): void {
    const rvParam = url.searchParams.get("resourceVersion");
    const since = rvParam && rvParam !== "0" ? Number(rvParam) : undefined;
    const table = wantsTable(req);
    const bookmarks = url.searchParams.get("allowWatchBookmarks") === "true";
    const protobuf = !table && this.formats.get(res) === "protobuf";
    res.writeHead(200, {
      "Content-Type": protobuf ? `${PROTOBUF};stream=watch` : "application/json",
      "Transfer-Encoding": "chunked",
      "Cache-Control": "no-cache",
    });
    res.flushHeaders();
    const write = (type: string, object: unknown) =>
      res.write(
        protobuf ? encodeWatchFrame(type, object as KubeObject) : `${JSON.stringify({ type, object })}\n`,
      );
    let unsubscribe = () => {};
    try {
      unsubscribe = this.opts.store.watch(
        { rt: route.rt, namespace: route.namespace, select: selectorOf(url) },
        since,
        (e) => write(e.type, table ? toTable(route.rt, [e.object], String(e.rv), "Object") : e.object),
      );
    } catch (err) {
      if (err instanceof ApiError) {
        write("ERROR", err.toStatus());
        res.end();
        return;
      }
      throw err;
    }
    const timeout = Number(url.searchParams.get("timeoutSeconds") ?? 1800);
    const bookmark = bookmarks
      ? setInterval(() => {
          write("BOOKMARK", {
            kind: route.rt.kind,
            apiVersion: apiVersionOf(route.rt),
            metadata: { resourceVersion: this.opts.store.resourceVersion },
          });
        }, 10_000)
      : undefined;
    const end = setTimeout(() => res.end(), timeout * 1000);
    res.on("close", () => {
      unsubscribe();
      clearTimeout(end);
      if (bookmark) clearInterval(bookmark);
    });
  }

  private logs(route: Route, url: URL, res: ServerResponse): void {
    const runtime = this.opts.runtime;
    if (route.rt.kind !== "Pod" || !route.name)
      throw notFound(route.rt.group, route.rt.plural, route.name ?? "");
    const pod = this.opts.store.get(route.rt, route.namespace, route.name);
    const container = url.searchParams.get("container") ?? soleContainer(pod);
    if (!runtime) throw new ApiError(503, "ServiceUnavailable", "no kubelet is running: pods have no logs");
    const tail = url.searchParams.get("tailLines");
    const stream = runtime.logs(pod, container, {
      follow: url.searchParams.get("follow") === "true",
      tailLines: tail === null ? undefined : Number(tail),
      previous: url.searchParams.get("previous") === "true",
      timestamps: url.searchParams.get("timestamps") === "true",
      sinceTime: sinceTimeOf(url),
    });
    res.writeHead(200, { "Content-Type": "text/plain", "Transfer-Encoding": "chunked" });
    stream.pipe(res);
    res.on("close", () => stream.destroy());
  }

  private async upgrade(
    req: IncomingMessage,
    socket: import("node:stream").Duplex,
    head: Buffer,
  ): Promise<void> {
    this.authorize(req);
    const url = new URL(req.url ?? "/", "http://sim");
    const route = this.route(url.pathname);
    if (route.rt.kind === "Pod" && route.subresource === "portforward" && route.name) {
      return this.portForward(req, socket, head, { ...route, name: route.name }, url);
    }
    const attach = route.subresource === "attach";
    if (route.rt.kind !== "Pod" || !(route.subresource === "exec" || attach) || !route.name) {
      throw new ApiError(
        400,
        "BadRequest",
        "only pods/exec, pods/attach and pods/portforward accept an upgrade",
      );
    }
    const pod = this.opts.store.get(route.rt, route.namespace, route.name);
    const command = url.searchParams.getAll("command");
    if (!attach && !command.length) throw badRequest("you must specify at least 1 command");
    const container = url.searchParams.get("container") ?? soleContainer(pod);
    const runtime = this.opts.runtime;
    if (!runtime) throw new ApiError(503, "ServiceUnavailable", "no kubelet is running: cannot exec");
    if (pod.status?.phase !== "Running") {
      throw badRequest(
        `unable to upgrade connection: pod ${route.name} is not running (phase ${pod.status?.phase ?? "Pending"})`,
      );
    }
    const stdin = url.searchParams.get("stdin") === "true";
    const proc = attach
      ? runtime.attach(pod, container, stdin)
      : runtime.exec(pod, container, command, url.searchParams.get("tty") === "true");
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      serveExec(ws, proc, {
        stdin,
        tty: url.searchParams.get("tty") === "true",
      });
    });
  }

  /**
   * kubectl 1.30+ tunnels SPDY in a WebSocket and falls back to a plain SPDY/3.1 upgrade; client-node speaks the
   * channel protocol. All three reach the pod's localhost ports through the kubelet.
   */
  private portForward(
    req: IncomingMessage,
    socket: import("node:stream").Duplex,
    head: Buffer,
    route: Route & { name: string },
    url: URL,
  ): void {
    const pod = this.opts.store.get(route.rt, route.namespace, route.name);
    const runtime = this.opts.runtime;
    if (!runtime) throw new ApiError(503, "ServiceUnavailable", "no kubelet is running: cannot port-forward");
    if (pod.status?.phase !== "Running") {
      throw badRequest(
        `unable to upgrade connection: pod ${route.name} is not running (phase ${pod.status?.phase ?? "Pending"})`,
      );
    }
    const target: PortForwardTarget = {
      pod: pod.metadata.name,
      uid: pod.metadata.uid ?? "",
      dial: (port) => runtime.connect(pod.metadata.namespace ?? "default", pod.metadata.name, port),
    };
    if ((req.headers.upgrade ?? "").toLowerCase() === "spdy/3.1") {
      const offered = String(req.headers["x-stream-protocol-version"] ?? PORT_FORWARD_PROTOCOL).split(/,\s*/);
      if (!offered.includes(PORT_FORWARD_PROTOCOL)) {
        throw new ApiError(
          403,
          "Forbidden",
          `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(" ")}], server accepts [${PORT_FORWARD_PROTOCOL}]`,
        );
      }
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`,
      );
      if (head.length) socket.unshift(head);
      serveSpdyPortForward(socket, target);
      return;
    }
    const offered = String(req.headers["sec-websocket-protocol"] ?? "").split(/,\s*/);
    if (offered.includes(SPDY_TUNNEL_PROTOCOL)) {
      delete req.headers["sec-websocket-protocol"];
      this.tunnelWss.handleUpgrade(req, socket, head, (ws) => serveTunnelledPortForward(ws, target));
      return;
    }
    const ports = channelPorts(url.searchParams.getAll("ports"));
    if (typeof ports === "string") throw badRequest(ports);
    this.wss.handleUpgrade(req, socket, head, (ws) => serveChannelPortForward(ws, ports, target));
  }

  private route(path: string): Route {
    const parts = path.split("/").filter(Boolean).map(decodeSegment);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === "api" && parts.length >= 3) {
      group = "";
      version = parts[1]!;
      rest = parts.slice(2);
    } else if (parts[0] === "apis" && parts.length >= 4) {
      group = parts[1]!;
      version = parts[2]!;
      rest = parts.slice(3);
    } else throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    let namespace: string | undefined;
    if (rest[0] === "namespaces" && rest.length >= 3 && rest[2] !== "status" && rest[2] !== "finalize") {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const rt = typeByPlural(group, version, rest[0]!);
    if (!rt) throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    if (namespace && !rt.namespaced)
      throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    return { rt, namespace, name: rest[1], subresource: rest[2] };
  }

  /**
   * A request's object decoded as kube-apiserver's Go decoder would: 400 for a wrong type or (fieldValidation=Strict)
   * an unknown field; unknown fields are dropped, with a warning unless fieldValidation=Ignore.
   */
  private decode(res: ServerResponse, rt: ResourceType, body: unknown, url: URL): KubeObject {
    this.checkKind(rt, body as KubeObject);
    const { object, unknown } = decodeKind<KubeObject>(
      apiVersionOf(rt),
      rt.kind,
      body,
      fieldValidationOf(url),
    );
    if (unknown.length) {
      res.setHeader(
        "Warning",
        unknown.map((u) => `299 - ${JSON.stringify(`unknown field "${u}"`)}`),
      );
    }
    return object;
  }

  private checkKind(rt: ResourceType, body: KubeObject | undefined): void {
    if (!isPlainObject(body)) throw badRequest("the request body must be a Kubernetes object");
    for (const field of ["kind", "apiVersion"] as const)
      if (body[field] !== undefined && typeof body[field] !== "string")
        throw badRequest(`the request body could not be decoded: ${field} must be a string`);
    if (body.kind && body.kind !== rt.kind) {
      throw badRequest(`the kind of the object (${body.kind}) does not match the URL (${rt.kind})`);
    }
    if (body.apiVersion && body.apiVersion !== apiVersionOf(rt)) {
      throw badRequest(
        `the API version in the data (${body.apiVersion}) does not match the expected API version (${apiVersionOf(rt)})`,
      );
    }
  }

  private respondObject(req: IncomingMessage, res: ServerResponse, rt: ResourceType, o: KubeObject): void {
    if (wantsTable(req)) this.table(res, 200, toTable(rt, [o], o.metadata.resourceVersion ?? "", "Metadata"));
    else this.json(res, 200, o);
  }

  /** Sends a body in the format the request negotiated (JSON before negotiation and for documents without a kind). */
  private json(res: ServerResponse, code: number, body: unknown): void {
    const { contentType, data } = encodeBody(this.formats.get(res) ?? "json", body);
    res.writeHead(code, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(data) });
    res.end(data);
  }

  /** Tables are JSON whatever else the client accepts: they have no protobuf form. */
  private table(res: ServerResponse, code: number, body: unknown): void {
    this.formats.set(res, "json");
    this.json(res, code, body);
  }

  private text(res: ServerResponse, code: number, body: string): void {
    res.writeHead(code, { "Content-Type": "text/plain" });
    res.end(body);
  }

  private fail(res: ServerResponse, err: unknown): void {
    const e =
      err instanceof ApiError
        ? err
        : new ApiError(
            500,
            "InternalError",
            `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`,
          );
    if (res.headersSent) {
      res.destroy();
      return;
    }
    this.json(res, e.code, e.toStatus());
  }
}

/** DeleteOptions' propagationPolicy (or the older orphanDependents); 400 for anything else, as kube-apiserver says. */
function propagationOf(
  policy: string | null | undefined,
  opts?: { orphanDependents?: boolean },
): Propagation {
  if (policy === undefined || policy === null || policy === "")
    return opts?.orphanDependents ? "Orphan" : "Background";
  if (policy === "Orphan" || policy === "Background" || policy === "Foreground") return policy;
  throw invalid("DeleteOptions", "", "", [
    {
      reason: "FieldValueNotSupported",
      field: "propagationPolicy",
      message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
    },
  ]);
}

/** PodLogOptions' sinceSeconds or sinceTime as an RFC 3339 time. */
function sinceTimeOf(url: URL): string | undefined {
  const seconds = url.searchParams.get("sinceSeconds");
  if (seconds !== null) {
    const n = Number(seconds);
    if (!Number.isInteger(n) || n < 1)
      throw badRequest("sinceSeconds: Invalid value: must be greater than 0");
    return new Date(Date.now() - n * 1000).toISOString();
  }
  const time = url.searchParams.get("sinceTime");
  if (time === null) return undefined;
  if (Number.isNaN(Date.parse(time)))
    throw badRequest(`sinceTime: Invalid value: "${time}": not an RFC 3339 time`);
  return new Date(Date.parse(time)).toISOString();
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? "");
}

function selectorOf(url: URL) {
  const labels = parseLabelSelector(url.searchParams.get("labelSelector"));
  const fields = parseFieldSelector(url.searchParams.get("fieldSelector"));
  return (o: KubeObject) => labels(o) && fields(o);
}

function listOf(rt: ResourceType, items: KubeObject[], resourceVersion: string) {
  return { kind: `${rt.kind}List`, apiVersion: apiVersionOf(rt), metadata: { resourceVersion }, items };
}

/** The fieldManager parameter, else what kube-apiserver derives from the User-Agent (its program name). */
function managerOf(req: IncomingMessage, url: URL): string {
  const named = url.searchParams.get("fieldManager");
  if (named) return named;
  return (req.headers["user-agent"] ?? "unknown").split("/")[0] || "unknown";
}

/** An object with a JSON, merge or strategic merge patch applied (422 for a JSON patch that cannot apply). */
function patched(type: string, live: KubeObject, body: unknown): KubeObject {
  if (type === "application/merge-patch+json") return jsonMergePatch(live, body);
  if (type === "application/strategic-merge-patch+json") return strategicMergePatch(live, body);
  if (type === "application/json-patch+json") {
    try {
      return jsonPatch(live, body as unknown[]);
    } catch (err) {
      throw new ApiError(422, "Invalid", `the JSON patch could not be applied: ${(err as Error).message}`);
    }
  }
  throw unsupportedMediaType(PATCH_TYPES);
}

const isPortForward = (req: IncomingMessage) => /\/portforward(\?|$)/.test(req.url ?? "");

function soleContainer(pod: KubeObject): string {
  const names = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
  if (names.length === 1) return names[0];
  throw badRequest(
    `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(" ")}]`,
  );
}

/** A request body decoded by its Content-Type, or as `as` says (patches: their JSON or YAML by patch type). */
async function readBody(req: IncomingMessage, as?: string): Promise<unknown> {
  return decodeBody(await readRaw(req), as ?? mediaTypeOf(req));
}

/** Who the simulator's bearer token is. */
const ADMIN_USER = "wsparity-admin";

const PATCH_TYPES = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/apply-patch+yaml",
  "application/strategic-merge-patch+json",
].join(", ");

const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/** A path segment's bytes as UTF-8; escapes of invalid UTF-8 name nothing that can exist (so: not found). */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return Buffer.from(
      segment.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
        String.fromCharCode(Number.parseInt(hex, 16)),
      ),
      "latin1",
    ).toString("utf8");
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
