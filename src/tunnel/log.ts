/** One line per event: `<time> <event> key=value …`. */
export type TunnelLog = (event: string, fields?: Record<string, string | number | undefined>) => void;

export const silentLog: TunnelLog = () => {};

export function lineLog(
  component: string,
  write: (line: string) => void = (l) => process.stderr.write(l),
): TunnelLog {
  return (event, fields = {}) => {
    const parts = [new Date().toISOString(), component, event];
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      const text = String(value);
      parts.push(`${key}=${/[\s"=]/.test(text) || text === "" ? JSON.stringify(text) : text}`);
    }
    write(`${parts.join(" ")}\n`);
  };
}
