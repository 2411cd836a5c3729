// The postStart scripts GitLab puts into the <ws>-scripts-configmap and the hook that runs them.
import type { ExecCommandSpec } from "../devfile/spec.ts";
import { SCRIPTS_DIR } from "./settings.ts";

export const RUN_INTERNAL_BLOCKING = "gl-run-internal-blocking-poststart-commands.sh";
export const RUN_NON_BLOCKING = "gl-run-non-blocking-poststart-commands.sh";

/** Command ids GitLab injects; they run first and block the hook, except the editor which runs in background. */
export const START_SSHD_COMMAND = "gl-start-sshd-command";
export const INIT_TOOLS_COMMAND = "gl-init-tools-command";

export const START_SSHD_SCRIPT = `#!/bin/sh
sshd_path=$(command -v sshd)
if [ -z "$sshd_path" ]; then
  echo "$(date -Iseconds): sshd not found in the image: SSH on $GL_SSH_PORT is not available"
  exit 0
fi
mkdir -p "$HOME/.ssh-host-keys"
[ -f "$HOME/.ssh-host-keys/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N "" -f "$HOME/.ssh-host-keys/ssh_host_ed25519_key"
"$sshd_path" -D -p "$GL_SSH_PORT" -h "$HOME/.ssh-host-keys/ssh_host_ed25519_key" -o PidFile=none &
sleep 0.3
if kill -0 $! 2>/dev/null; then
  echo "$(date -Iseconds): sshd started on $GL_SSH_PORT"
else
  echo "$(date -Iseconds): sshd exited at start: SSH on $GL_SSH_PORT is not available"
fi
`;

export const INIT_TOOLS_SCRIPT = `#!/bin/sh
LOG_FILE="\${GL_WORKSPACE_LOGS_DIR}/start_vscode.log"
mkdir -p "$(dirname "$LOG_FILE")"
echo "$(date -Iseconds): Starting the editor on port \${GL_VSCODE_PORT:-60001}, log in $LOG_FILE"
"\${GL_TOOLS_DIR}/vscode-reh-web/bin/gitlab-webide-server" \\
  --host 0.0.0.0 --port "\${GL_VSCODE_PORT:-60001}" --log "\${GL_VSCODE_LOG_LEVEL:-info}" \\
  --without-connection-token --disable-workspace-trust >>"$LOG_FILE" 2>&1 &
`;

/** Keeps a container whose command GitLab overrides alive (overrideCommand, the default). */
export const KEEP_ALIVE_SCRIPT = `echo "$(date -Iseconds): Container started, sleeping until the workspace stops"
trap : TERM INT
sleep infinity & wait
`;

/** The body of one exec command as a script: its env, working directory, then its command line. */
export function commandScript(cmd: ExecCommandSpec): string {
  const lines = ["#!/bin/sh"];
  for (const e of cmd.env) lines.push(`export ${e.name}=${shellQuote(e.value)}`);
  if (cmd.workingDir) lines.push(`cd ${shellQuoteKeepVars(cmd.workingDir)} || exit 1`);
  lines.push(cmd.commandLine.trimEnd());
  return `${lines.join("\n")}\n`;
}

/** A script that runs the given scripts one after another, each logged, stopping at the first failure. */
export function runSequentially(container: string, commandIds: string[]): string {
  const lines = ["#!/bin/sh"];
  for (const id of commandIds) {
    lines.push(`echo "$(date -Iseconds): Running ${SCRIPTS_DIR}/${container}/${id}"`);
    lines.push(`"${SCRIPTS_DIR}/${container}/${id}" || exit $?`);
  }
  return `${lines.join("\n")}\n`;
}

/** The lifecycle.postStart command of a container that has postStart scripts. */
export function postStartHook(container: string): string[] {
  const dir = `\${GL_WORKSPACE_LOGS_DIR}/${container}`;
  const script = `#!/bin/sh
mkdir -p "${dir}"
{
  echo "$(date -Iseconds): ----------------------------------------"
  echo "$(date -Iseconds): Running internal blocking poststart commands script..."
} >> "${dir}/poststart-stdout.log"
"${SCRIPTS_DIR}/${container}/${RUN_INTERNAL_BLOCKING}" 1>>"${dir}/poststart-stdout.log" 2>>"${dir}/poststart-stderr.log"
{
  echo "$(date -Iseconds): ----------------------------------------"
  echo "$(date -Iseconds): Running non-blocking poststart commands script..."
} >> "${dir}/poststart-stdout.log"
"${SCRIPTS_DIR}/${container}/${RUN_NON_BLOCKING}" 1>>"${dir}/poststart-stdout.log" 2>>"${dir}/poststart-stderr.log" &
`;
  return ["/bin/sh", "-c", script];
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Double-quotes a path so that ${VAR} references (devfile's ${PROJECT_SOURCE}) still expand. */
function shellQuoteKeepVars(s: string): string {
  return `"${s.replace(/["\\`]/g, "\\$&")}"`;
}
