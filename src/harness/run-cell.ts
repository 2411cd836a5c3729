import { EDITOR_PORT } from "../kubernetes/settings.ts";
import type { Cell, CellTunnelMetrics, FeatureResult, TunnelFigures } from "../report/model.ts";
import { withTimeout } from "../util/timeout.ts";
import { EnvironmentError } from "./environment-error.ts";
import { measureTarget, ratios } from "./measure.ts";
import type { AnyProbe, ProbeContext, ProbeOutcome, RestartProbe } from "./probes/index.ts";
import type { RestartObservation } from "./probes/probe.ts";
import type { CellContext, PathProvisioner, WorkspaceHandle } from "./workspace.ts";

export interface CellEvents {
  probeDone(cell: CellContext, result: FeatureResult): void;
}

export interface CellRun {
  cell: Cell;
  /** The figures measured through this cell's URL, for the cells judged against it. */
  figures?: TunnelFigures;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function timed(
  id: string,
  timeoutMs: number,
  body: () => Promise<ProbeOutcome>,
): Promise<FeatureResult> {
  const t0 = performance.now();
  try {
    const outcome = await withTimeout(body(), timeoutMs, `probe ${id}`);
    return { id, ...outcome, durationMs: Math.round(performance.now() - t0) };
  } catch (err) {
    return {
      id,
      status: "error",
      evidence: errorMessage(err),
      durationMs: Math.round(performance.now() - t0),
    };
  }
}

function notApplicable(id: string, reason: string): FeatureResult {
  return { id, status: "not-applicable", evidence: reason, durationMs: 0 };
}

async function measure(ws: WorkspaceHandle, ctx: CellContext, baseline: TunnelFigures | undefined) {
  const options = ctx.scenario.bench;
  if (options.latencyRequests === 0) return undefined;
  const figures = await measureTarget(
    {
      url: (path) => ws.url(EDITOR_PORT, path),
      headers: ws.authHeaders(),
      ...(ws.resolution ? { lookup: ws.resolution.lookup } : {}),
    },
    options,
  );
  let base = baseline;
  if (!base && ws.directUrl) {
    const direct = ws.directUrl.bind(ws);
    base = await measureTarget({ url: (path) => direct(EDITOR_PORT, path), headers: {} }, options);
  }
  const tunnel: CellTunnelMetrics | undefined = base
    ? { ...figures, baseline: base, ratio: ratios(figures, base) }
    : undefined;
  return { figures, tunnel };
}

/**
 * One cell: start the workspace (startup time = create until its editor answers through the user
 * URL), run the live probes, measure the URL, then one restart for the restart probes, then stop.
 * The workspace is stopped whatever happens.
 */
export async function runCell(
  ctx: CellContext,
  provisioner: PathProvisioner,
  probes: readonly AnyProbe[],
  baseline: TunnelFigures | undefined,
  events: CellEvents,
  signal: AbortSignal,
): Promise<CellRun> {
  const base = { scenario: ctx.scenario.name, path: ctx.path, executor: ctx.executor, arch: ctx.arch };
  const selected = probes.filter((p) => ctx.scenario.probes.includes(p.id));
  const record = (r: FeatureResult) => {
    events.probeDone(ctx, r);
    return r;
  };
  const t0 = performance.now();
  const startRequestedAt = Date.now();
  let ws: WorkspaceHandle;
  try {
    // The provisioner's own waits use startMs and explain themselves (job log, pod events); this outer
    // limit only catches a provisioner that hangs past them.
    ws = await withTimeout(
      provisioner.start(ctx, signal),
      ctx.scenario.timeouts.startMs + 15_000,
      "workspace start",
    );
  } catch (err) {
    if (err instanceof EnvironmentError)
      return { cell: { ...base, status: "environment", reason: err.message, startupMs: null, features: [] } };
    const reason = `the workspace did not start: ${errorMessage(err)}`;
    return {
      cell: {
        ...base,
        status: "error",
        reason,
        startupMs: null,
        features: selected.map((p) => record({ id: p.id, status: "error", evidence: reason, durationMs: 0 })),
      },
    };
  }
  const startupMs = Math.round(performance.now() - t0);
  const pctx: ProbeContext = {
    ...ctx,
    ws,
    timeoutMs: ctx.scenario.timeouts.probeMs,
    startedAtMs: startRequestedAt,
  };
  const results = new Map<string, FeatureResult>();
  let stopped = false;
  let measured: Awaited<ReturnType<typeof measure>>;
  let measureError: string | undefined;
  let disposeError: string | undefined;
  let ended: string | undefined;
  // A workspace that ended by itself (its job killed, its runner gone) turns the cell into an error: what
  // the probes saw afterwards says nothing about the path.
  const endedByItself = async () => (ended ??= await ws.ended?.().catch(() => undefined));
  try {
    for (const probe of selected.filter((p) => p.phase !== "restart" && p.phase !== "stop")) {
      if (signal.aborted) break;
      const na = probe.notApplicable?.(pctx);
      const run = probe as Extract<AnyProbe, { run: unknown }>;
      results.set(
        probe.id,
        record(na ? notApplicable(probe.id, na) : await timed(probe.id, pctx.timeoutMs, () => run.run(pctx))),
      );
    }
    if (!signal.aborted) {
      // Bounded like a start: a measurement that stalls must not hold the cell (and the run) forever.
      measured = await withTimeout(
        measure(ws, ctx, baseline),
        ctx.scenario.timeouts.startMs,
        "the tunnel measurement",
      ).catch((err) => {
        measureError = errorMessage(err);
        return undefined;
      });
    }
    const restartProbes = selected.filter((p): p is RestartProbe => p.phase === "restart");
    const prepared: { probe: RestartProbe; state: unknown }[] = [];
    for (const probe of restartProbes) {
      if (signal.aborted) break;
      const na = probe.notApplicable?.(pctx);
      if (na) {
        results.set(probe.id, record(notApplicable(probe.id, na)));
        continue;
      }
      try {
        prepared.push({
          probe,
          state: await withTimeout(probe.prepare(pctx), pctx.timeoutMs, `probe ${probe.id} (prepare)`),
        });
      } catch (err) {
        results.set(
          probe.id,
          record({ id: probe.id, status: "error", evidence: errorMessage(err), durationMs: 0 }),
        );
      }
    }
    if (prepared.length > 0 && !signal.aborted) {
      const r0 = performance.now();
      const restart: RestartObservation = await withTimeout(
        ws.restart(),
        ctx.scenario.timeouts.startMs,
        "restart",
      )
        .then(() => ({ ok: true, durationMs: performance.now() - r0 }))
        .catch((err) => ({ ok: false, durationMs: performance.now() - r0, error: errorMessage(err) }));
      for (const { probe, state } of prepared) {
        results.set(
          probe.id,
          record(await timed(probe.id, pctx.timeoutMs, () => probe.verify(pctx, state, restart))),
        );
      }
    }
    for (const probe of selected.filter((p) => p.phase === "stop")) {
      if (signal.aborted || (await endedByItself())) break;
      const na = probe.notApplicable?.(pctx);
      const run = probe as Extract<AnyProbe, { run: unknown }>;
      results.set(
        probe.id,
        record(na ? notApplicable(probe.id, na) : await timed(probe.id, pctx.timeoutMs, () => run.run(pctx))),
      );
      stopped = true;
    }
  } finally {
    if (!stopped) {
      await endedByItself();
      await ws.stop().catch(() => undefined);
    }
    await ws.dispose().catch((err) => {
      disposeError = errorMessage(err);
    });
  }
  const features = selected.map(
    (p) =>
      results.get(p.id) ?? {
        id: p.id,
        status: "error" as const,
        evidence: ended ? `the workspace had ended: ${ended}` : "interrupted before this probe ran",
        durationMs: 0,
      },
  );
  const errors = features.filter((f) => f.status === "error").length;
  const reasons = [
    errors > 0 ? `${errors} probe(s) could not run to a verdict` : "",
    measureError ? `tunnel measurement failed: ${measureError}` : "",
    disposeError ? `cleanup failed: ${disposeError}` : "",
    signal.aborted ? "interrupted: the run was stopped before this cell finished" : "",
  ].filter(Boolean);
  if (ended) reasons.unshift(`the workspace ended by itself: ${ended}`);
  // An interrupted cell, or one whose workspace ended by itself, has no verdict of its own: it is an
  // error, not a failure of the path.
  const status =
    signal.aborted || ended ? "error" : errors > 0 || measureError || disposeError ? "failed" : "passed";
  return {
    cell: {
      ...base,
      status,
      ...(reasons.length ? { reason: reasons.join("; ") } : {}),
      startupMs,
      features,
      ...(measured?.tunnel ? { tunnel: measured.tunnel } : {}),
    },
    figures: measured?.figures,
  };
}
