/** Counters, gauges and one latency histogram, exposed in Prometheus text format on /metrics. */
const LATENCY_BUCKETS_S = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

export class TunnelMetrics {
  agentsConnected = 0;
  agentConnectsTotal = 0;
  agentRejectsTotal = 0;
  agentReplacementsTotal = 0;
  streamsActive = 0;
  streamsTotal = 0;
  bytesFromUsers = 0;
  bytesToUsers = 0;
  readonly errors = new Map<string, number>();
  readonly responses = new Map<number, number>();
  readonly #latencyCounts = new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0);
  #latencySum = 0;
  #latencyCount = 0;

  error(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  response(status: number): void {
    this.responses.set(status, (this.responses.get(status) ?? 0) + 1);
  }

  /** Time from a request's arrival to the workspace's response headers. */
  observeLatency(seconds: number): void {
    let bucket = LATENCY_BUCKETS_S.findIndex((bound) => seconds <= bound);
    if (bucket === -1) bucket = LATENCY_BUCKETS_S.length;
    this.#latencyCounts[bucket]!++;
    this.#latencySum += seconds;
    this.#latencyCount++;
  }

  streamOpened(): void {
    this.streamsActive++;
    this.streamsTotal++;
  }

  streamClosed(): void {
    this.streamsActive--;
  }

  userConnectionClosed(bytesFromUser: number, bytesToUser: number): void {
    this.bytesFromUsers += bytesFromUser;
    this.bytesToUsers += bytesToUser;
  }

  render(routes: number): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    metric("wsparity_tunnel_workspaces", "gauge", "Workspaces with a route.", [["", routes]]);
    metric("wsparity_tunnel_agents_connected", "gauge", "Agents connected now.", [
      ["", this.agentsConnected],
    ]);
    metric("wsparity_tunnel_agent_connects_total", "counter", "Agents accepted.", [
      ["", this.agentConnectsTotal],
    ]);
    metric(
      "wsparity_tunnel_agent_rejects_total",
      "counter",
      "Agent connections refused (bad hello or token).",
      [["", this.agentRejectsTotal]],
    );
    metric("wsparity_tunnel_agent_replacements_total", "counter", "Agents replaced by a newer one.", [
      ["", this.agentReplacementsTotal],
    ]);
    metric("wsparity_tunnel_streams_active", "gauge", "Streams open to workspaces now.", [
      ["", this.streamsActive],
    ]);
    metric("wsparity_tunnel_streams_total", "counter", "Streams opened to workspaces.", [
      ["", this.streamsTotal],
    ]);
    metric("wsparity_tunnel_bytes_total", "counter", "Bytes carried for users.", [
      ['{direction="from_user"}', this.bytesFromUsers],
      ['{direction="to_user"}', this.bytesToUsers],
    ]);
    metric(
      "wsparity_tunnel_responses_total",
      "counter",
      "Responses to users by status.",
      [...this.responses].map(([status, n]) => [`{status="${status}"}`, n]),
    );
    metric(
      "wsparity_tunnel_errors_total",
      "counter",
      "Errors by kind.",
      [...this.errors].map(([kind, n]) => [`{kind="${kind}"}`, n]),
    );
    lines.push(
      "# HELP wsparity_tunnel_response_latency_seconds Time from request to the workspace's response headers.",
      "# TYPE wsparity_tunnel_response_latency_seconds histogram",
    );
    let cumulative = 0;
    LATENCY_BUCKETS_S.forEach((bound, i) => {
      cumulative += this.#latencyCounts[i]!;
      lines.push(`wsparity_tunnel_response_latency_seconds_bucket{le="${bound}"} ${cumulative}`);
    });
    lines.push(
      `wsparity_tunnel_response_latency_seconds_bucket{le="+Inf"} ${this.#latencyCount}`,
      `wsparity_tunnel_response_latency_seconds_sum ${this.#latencySum}`,
      `wsparity_tunnel_response_latency_seconds_count ${this.#latencyCount}`,
    );
    return `${lines.join("\n")}\n`;
  }
}
