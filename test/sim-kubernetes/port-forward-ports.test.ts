// The ?ports= parser of the channel port-forward protocol, against the kubelet's rules
// (pkg/kubelet/cri/streaming/portforward/websocket.go): repeated or comma-separated, 1..65535, else its message.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { channelPorts } from "../../src/sim/kubernetes/port-forward.ts";

describe("channelPorts", () => {
  it("reads every valid port, repeated or comma-separated, in order", () => {
    const port = fc.integer({ min: 1, max: 65535 });
    fc.assert(
      fc.property(
        fc.array(fc.array(port, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }),
        (groups) => {
          expect(channelPorts(groups.map((g) => g.join(",")))).toEqual(groups.flat());
        },
      ),
    );
  });

  it("refuses what the kubelet refuses, with its message", () => {
    expect(channelPorts([])).toBe(`query parameter "port" is required`);
    expect(channelPorts([""])).toBe(`query parameter "port" cannot be empty`);
    expect(channelPorts(["0"])).toBe(`port "0" must be > 0`);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 65536, max: 10_000_000 }).map(String),
          fc.string().filter((s) => !/^[\d,]*$/.test(s)),
        ),
        (bad) => {
          expect(channelPorts([bad])).toBe(`unable to parse "${bad}" as a port`);
        },
      ),
    );
  });
});
