import type { SchemaProblem } from "./schema-errors.ts";

// Rules the JSON schema cannot express, from the devfile specification: unique names, references that resolve,
// event command kinds, and Kubernetes quantities.

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A Kubernetes resource quantity: 512Mi, 1Gi, 500m, 0.5, 2e3. */
export const QUANTITY = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

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
        if (typeof e.targetPort === "number") {
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
    if (isObj(c.apply) && typeof c.apply.component === "string" && !componentKinds.has(c.apply.component)) {
      add(
        `${base}/apply/component`,
        `commands[${i}].apply.component '${c.apply.component}' is not a component of this devfile`,
      );
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
