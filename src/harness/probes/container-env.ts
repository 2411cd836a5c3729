import { mainContainer } from "../../devfile/spec.ts";
import { describeExec, execInWorkspace } from "./editor-client.ts";
import { type Probe, supported, unsupported } from "./probe.ts";

export const containerEnv: Probe = {
  id: "container.env",
  notApplicable: ({ spec }) =>
    mainContainer(spec).env.length === 0 ? "the main container declares no env" : undefined,
  async run({ ws, spec }) {
    const declared = mainContainer(spec).env;
    const out = await execInWorkspace(ws, ["env", "-0"]);
    if (out.exitCode !== 0) return unsupported(describeExec("env -0", out));
    const actual = new Map(
      out.stdout
        .split("\0")
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)] as const),
    );
    const wrong = declared.filter((e) => actual.get(e.name) !== e.value);
    const summary = `${declared.length - wrong.length}/${declared.length} declared env vars have their value`;
    if (wrong.length === 0) return supported(`${summary} (${declared.map((e) => e.name).join(", ")})`);
    const detail = wrong
      .slice(0, 5)
      .map(
        (e) =>
          `${e.name}: want ${JSON.stringify(e.value)}, got ${actual.has(e.name) ? JSON.stringify(actual.get(e.name)) : "unset"}`,
      )
      .join("; ");
    return unsupported(`${summary}; ${detail}`);
  },
};
