import type { SchemaProblem } from "./schema-errors.ts";

// Rules the JSON schema cannot express, from the devfile specification: unique names, references that resolve,
// event command kinds, and Kubernetes quantities.

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A Kubernetes resource quantity: 512Mi, 1Gi, 500m, 0.5, 2e3. */
export const QUANTITY = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

const SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** The number a valid quantity stands for (512Mi → 536870912, 500m → 0.5). */
export function quantityValue(q: string): number {
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$/.exec(q);
  if (!m) return Number.NaN;
  const suffix = m[2] ?? "";
  if (/^[eE]/.test(suffix)) return Number(m[1] + suffix);
  return Number(m[1]) * (SUFFIX[suffix] ?? Number.NaN);
}

/** Environment variables the devfile runtime sets itself. */
const RESERVED_ENV = ["PROJECT_SOURCE", "PROJECTS_ROOT"];

const CONTAINER_QUANTITIES: [string, string][] = [
  ["memoryLimit", "512Mi"],
  ["memoryRequest", "256Mi"],
  ["cpuLimit", "500m"],
  ["cpuRequest", "100m"],
];

export function checkSemantics(devfile: Obj): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const add = (pointer: string, message: string) => problems.push({ pointer, message });
  const components = list(devfile.components);
  const commands = list(devfile.commands);

  const componentKinds = new Map<string, string>();
  components.forEach((c, i) => {
    if (!isObj(c) || typeof c.name !== "string") return;
    const kind = ["container", "kubernetes", "openshift", "volume", "image", "plugin", "custom"].find(
      (k) => k in c,
    );
    if (componentKinds.has(c.name)) {
      add(
        `/components/${i}/name`,
        `components[${i}].name '${c.name}' is used by another component: names must be unique`,
      );
    } else {
      componentKinds.set(c.name, kind ?? "unknown");
    }
  });

  const endpointNames = new Map<string, string>();
  const portOwners = new Map<number, string>();
  components.forEach((c, i) => {
    if (!isObj(c)) return;
    const base = `/components/${i}`;
    if (isObj(c.container)) {
      const container = c.container;
      for (const [field, example] of CONTAINER_QUANTITIES) {
        const v = container[field];
        if (typeof v === "string" && !QUANTITY.test(v)) {
          add(
            `${base}/container/${field}`,
            `components[${i}].container.${field} must be a quantity such as ${example}, not ${JSON.stringify(v)}`,
          );
        }
      }
      for (const [request, limit] of [
        ["memoryRequest", "memoryLimit"],
        ["cpuRequest", "cpuLimit"],
      ] as const) {
        const [r, l] = [container[request], container[limit]];
        if (typeof r !== "string" || typeof l !== "string") continue;
        if (quantityValue(r) > quantityValue(l)) {
          add(
            `${base}/container/${request}`,
            `components[${i}].container.${request} ${r} is more than its ${limit} ${l}: a request cannot exceed the limit`,
          );
        }
      }
      list(container.env).forEach((e, j) => {
        if (isObj(e) && typeof e.name === "string" && RESERVED_ENV.includes(e.name)) {
          add(
            `${base}/container/env/${j}/name`,
            `components[${i}].container.env[${j}] sets ${e.name}, which the workspace sets itself: rename it`,
          );
        }
      });
      list(container.volumeMounts).forEach((m, j) => {
        if (!isObj(m) || typeof m.name !== "string") return;
        const kind = componentKinds.get(m.name);
        if (kind !== "volume") {
          add(
            `${base}/container/volumeMounts/${j}/name`,
            `components[${i}].container.volumeMounts[${j}] mounts '${m.name}', which is ${kind ? `a ${kind} component, not a volume` : "not a component"}: add a volume component named '${m.name}'`,
          );
        }
      });
      const portsHere = new Set<number>();
      list(container.endpoints).forEach((e, j) => {
        if (!isObj(e)) return;
        const at = `${base}/container/endpoints/${j}`;
        if (typeof e.name === "string") {
          const owner = endpointNames.get(e.name);
          if (owner)
            add(
              `${at}/name`,
              `endpoint name '${e.name}' is already used in component '${owner}': endpoint names must be unique`,
            );
          else endpointNames.set(e.name, String(c.name));
        }
        if (typeof e.targetPort === "number" && container.dedicatedPod !== true) {
          const owner = portOwners.get(e.targetPort);
          if (owner && owner !== c.name) {
            add(
              `${at}/targetPort`,
              `targetPort ${e.targetPort} is also an endpoint of container '${owner}': containers of one workspace share a network, so each port can belong to one container only`,
            );
          }
          portsHere.add(e.targetPort);
        }
      });
      for (const port of portsHere) if (!portOwners.has(port)) portOwners.set(port, String(c.name));
    }
    if (isObj(c.volume) && typeof c.volume.size === "string" && !QUANTITY.test(c.volume.size)) {
      add(
        `${base}/volume/size`,
        `components[${i}].volume.size must be a quantity such as 1Gi, not ${JSON.stringify(c.volume.size)}`,
      );
    }
  });

  const commandKinds = new Map<string, { kind: string; index: number; value: Obj }>();
  commands.forEach((c, i) => {
    if (!isObj(c) || typeof c.id !== "string") return;
    const id = c.id.toLowerCase();
    const kind =
      ["exec", "apply", "composite", "vscodeTask", "vscodeLaunch", "custom"].find((k) => k in c) ?? "unknown";
    if (commandKinds.has(id))
      add(`/commands/${i}/id`, `commands[${i}].id '${c.id}' is used by another command: ids must be unique`);
    else commandKinds.set(id, { kind, index: i, value: c });
  });

  commands.forEach((c, i) => {
    if (!isObj(c)) return;
    const base = `/commands/${i}`;
    if (isObj(c.exec) && typeof c.exec.component === "string") {
      const kind = componentKinds.get(c.exec.component);
      if (kind !== "container") {
        add(
          `${base}/exec/component`,
          `commands[${i}].exec.component '${c.exec.component}' ${kind ? `is a ${kind} component; exec commands run in container components` : "is not a component of this devfile"}`,
        );
      }
    }
    if (isObj(c.apply) && typeof c.apply.component === "string") {
      const kind = componentKinds.get(c.apply.component);
      if (!kind) {
        add(
          `${base}/apply/component`,
          `commands[${i}].apply.component '${c.apply.component}' is not a component of this devfile`,
        );
      } else if (kind === "volume") {
        add(
          `${base}/apply/component`,
          `commands[${i}].apply.component '${c.apply.component}' is a volume; apply commands run container, kubernetes, openshift or image components`,
        );
      }
    }
    if (isObj(c.composite)) {
      list(c.composite.commands).forEach((sub, j) => {
        if (typeof sub === "string" && !commandKinds.has(sub.toLowerCase())) {
          add(
            `${base}/composite/commands/${j}`,
            `commands[${i}].composite.commands[${j}] '${sub}' is not a command of this devfile`,
          );
        }
      });
    }
  });

  for (const [kind, { defaults }] of commandGroups(commandKinds)) {
    if (defaults.length < 2) continue;
    add(
      `/commands/${commandKinds.get(defaults[1]!)!.index}`,
      `commands ${defaults.map((id) => `'${id}'`).join(" and ")} are all the default '${kind}' command: keep isDefault on one`,
    );
  }

  checkProjects(devfile, add);

  for (const cycle of compositeCycles(commandKinds)) {
    add(
      `/commands/${cycle.index}/composite`,
      `composite command '${cycle.id}' includes itself: ${cycle.path.join(" → ")}`,
    );
  }

  if (isObj(devfile.events)) {
    const wanted: Record<string, "exec" | "apply"> = {
      preStart: "apply",
      postStart: "exec",
      preStop: "exec",
      postStop: "apply",
    };
    for (const [event, kind] of Object.entries(wanted)) {
      list(devfile.events[event]).forEach((id, j) => {
        if (typeof id !== "string") return;
        const at = `/events/${event}/${j}`;
        const cmd = commandKinds.get(id.toLowerCase());
        if (!cmd) {
          add(at, `events.${event}[${j}] '${id}' is not a command of this devfile`);
          return;
        }
        const leafKinds = leafCommandKinds(cmd, commandKinds, new Set());
        const wrong = [...leafKinds].filter((k) => k !== kind);
        if (wrong.length > 0) {
          add(
            at,
            `events.${event}[${j}] '${id}' is ${wrong.join("/")}; ${event} events run ${kind} commands only`,
          );
        }
      });
    }
  }
  return problems;
}

function checkProjects(devfile: Obj, add: (pointer: string, message: string) => void): void {
  for (const kind of ["projects", "starterProjects"] as const) {
    list(devfile[kind]).forEach((p, i) => {
      if (!isObj(p) || !isObj(p.git) || !isObj(p.git.remotes)) return;
      const git = p.git;
      const remotes = Object.keys(git.remotes as Obj);
      const at = `/${kind}/${i}/git`;
      const checkout = isObj(git.checkoutFrom) ? git.checkoutFrom.remote : undefined;
      if (kind === "starterProjects" && remotes.length > 1) {
        add(
          `${at}/remotes`,
          `${kind}[${i}].git has ${remotes.length} remotes; a starter project can have one`,
        );
      }
      if (kind === "projects" && remotes.length > 1 && checkout === undefined) {
        add(at, `${kind}[${i}].git has ${remotes.length} remotes: say which one under checkoutFrom.remote`);
      }
      if (typeof checkout === "string" && !remotes.includes(checkout)) {
        add(
          `${at}/checkoutFrom/remote`,
          `${kind}[${i}].git.checkoutFrom.remote '${checkout}' is not one of its remotes (${remotes.join(", ")})`,
        );
      }
    });
  }
}

/** Commands by group kind: all of them, and those marked isDefault. */
function commandGroups(index: CommandIndex): Map<string, { all: string[]; defaults: string[] }> {
  const groups = new Map<string, { all: string[]; defaults: string[] }>();
  for (const [id, cmd] of index) {
    const body = Object.values(cmd.value).find((v) => isObj(v) && isObj(v.group)) as Obj | undefined;
    const group = body?.group as Obj | undefined;
    if (typeof group?.kind !== "string") continue;
    const entry = groups.get(group.kind) ?? { all: [], defaults: [] };
    entry.all.push(id);
    if (group.isDefault === true) entry.defaults.push(id);
    groups.set(group.kind, entry);
  }
  return groups;
}

function commandIndex(devfile: Obj): CommandIndex {
  const index: CommandIndex = new Map();
  list(devfile.commands).forEach((c, i) => {
    if (!isObj(c) || typeof c.id !== "string" || index.has(c.id.toLowerCase())) return;
    const kind = ["exec", "apply", "composite"].find((k) => k in c) ?? "other";
    index.set(c.id.toLowerCase(), { kind, index: i, value: c });
  });
  return index;
}

/** What the devfile specification only warns about: several commands of one group kind, none the default. */
export function semanticWarnings(devfile: Obj): SchemaProblem[] {
  const index = commandIndex(devfile);
  const warnings: SchemaProblem[] = [];
  for (const [kind, { all, defaults }] of commandGroups(index)) {
    if (all.length < 2 || defaults.length > 0) continue;
    warnings.push({
      pointer: `/commands/${index.get(all[0]!)!.index}`,
      message: `commands ${all.map((id) => `'${id}'`).join(", ")} are all '${kind}' commands and none is the default: tools pick one; set isDefault: true on one`,
    });
  }
  return warnings;
}

type CommandIndex = Map<string, { kind: string; index: number; value: Obj }>;

function subCommands(value: Obj): string[] {
  return isObj(value.composite)
    ? list(value.composite.commands).filter((s): s is string => typeof s === "string")
    : [];
}

function leafCommandKinds(
  cmd: { kind: string; value: Obj },
  index: CommandIndex,
  seen: Set<string>,
): Set<string> {
  if (cmd.kind !== "composite") return new Set([cmd.kind]);
  const out = new Set<string>();
  for (const sub of subCommands(cmd.value)) {
    const id = sub.toLowerCase();
    const next = index.get(id);
    if (!next || seen.has(id)) continue;
    for (const k of leafCommandKinds(next, index, new Set([...seen, id]))) out.add(k);
  }
  return out;
}

function compositeCycles(index: CommandIndex): { id: string; index: number; path: string[] }[] {
  const cycles: { id: string; index: number; path: string[] }[] = [];
  for (const [id, cmd] of index) {
    if (cmd.kind !== "composite") continue;
    const path = findPathBack(id, id, index, [id], new Set());
    if (path) cycles.push({ id, index: cmd.index, path });
  }
  return cycles;
}

function findPathBack(
  start: string,
  at: string,
  index: CommandIndex,
  path: string[],
  seen: Set<string>,
): string[] | undefined {
  const cmd = index.get(at);
  if (!cmd) return undefined;
  for (const sub of subCommands(cmd.value)) {
    const id = sub.toLowerCase();
    if (id === start) return [...path, id];
    if (seen.has(id)) continue;
    seen.add(id);
    const found = findPathBack(start, id, index, [...path, id], seen);
    if (found) return found;
  }
  return undefined;
}
