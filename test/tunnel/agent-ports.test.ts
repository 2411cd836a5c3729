// The agent's declared ports (--ports / WSPARITY_PORTS): PORT, or PORT=LOCAL for a declared port that listens at
// another local port (a shell job's editor on a free port).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AGENT_ENV, AgentConfigError, resolveAgentOptions } from "../../src/agent/config.ts";

const base = {
  [AGENT_ENV.server]: "tcp://127.0.0.1:8091",
  [AGENT_ENV.workspace]: "ws",
  [AGENT_ENV.token]: "t",
};
const port = fc.integer({ min: 1, max: 65535 });

describe("the agent's declared ports", () => {
  it("keeps every declared port, and where each remapped one listens", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(port, fc.option(port, { nil: undefined })), {
          minLength: 1,
          selector: ([p]) => p,
        }),
        (entries) => {
          const text = entries.map(([p, at]) => (at === undefined ? `${p}` : `${p}=${at}`)).join(",");
          const options = resolveAgentOptions({}, { ...base, WSPARITY_PORTS: text });
          expect(options.ports).toEqual(entries.map(([p]) => p));
          const remapped = entries.filter(([, at]) => at !== undefined);
          expect(options.listensAt ? [...options.listensAt] : []).toEqual(remapped);
        },
      ),
    );
  });

  it("names an entry that is neither PORT nor PORT=LOCAL", () => {
    for (const bad of ["60001=", "=41234", "60001=1=2", "60001=70000", "x", ""]) {
      expect(() => resolveAgentOptions({}, { ...base, WSPARITY_PORTS: `8080,${bad}` })).toThrow(
        AgentConfigError,
      );
      expect(() => resolveAgentOptions({}, { ...base, WSPARITY_PORTS: `8080,${bad}` })).toThrow(
        `${JSON.stringify(bad)} is not a port (1-65535) or PORT=LOCAL`,
      );
    }
  });
});
