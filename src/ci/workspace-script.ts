// biome-ignore-all lint/suspicious/noTemplateCurlyInString: bash and devfile ${VAR} syntax, not JS templates
// The job script every generated pipeline runs. It is constant text: everything that varies per workspace
// arrives in CI variables (WSPARITY_*), so no devfile string is ever parsed as part of this script.

export const WORKSPACE_SCRIPT: readonly string[] = [
  // The tools service (docker, kubernetes) copies node, the agent and the editor into the shared build
  // volume and then writes `ready`; the shell executor's runner points WSPARITY_TOOLS_DIR at its own copy.
  [
    'export WSPARITY_TOOLS_DIR="${WSPARITY_TOOLS_DIR:-$CI_BUILDS_DIR/.wsparity-tools}"',
    'for attempt in $(seq 1 120); do [ -f "$WSPARITY_TOOLS_DIR/ready" ] && break; sleep 1; done',
    'if [ ! -f "$WSPARITY_TOOLS_DIR/ready" ]; then echo "wsparity: no tools in $WSPARITY_TOOLS_DIR after 120 s (is the tools service running?)" >&2; exit 1; fi',
    'export PATH="$WSPARITY_TOOLS_DIR/bin:$PATH"',
    'mkdir -p "$CI_PROJECT_DIR/.wsparity/logs" "$CI_PROJECT_DIR/.wsparity/volumes"',
  ].join("\n"),
  // Volumes are folders in the project dir (.wsparity/volumes is cached; ephemeral ones start empty),
  // linked to their mount path on container executors.
  [
    "wsparity_volumes() {",
    '  while IFS="=" read -r volume mount_path; do',
    '    [ -n "$volume" ] || continue',
    '    mkdir -p "$1/$volume"',
    '    if [ "$WSPARITY_LINK_VOLUMES" = true ] && [ ! -e "$mount_path" ]; then',
    '      mkdir -p "$(dirname "$mount_path")" && ln -s "$1/$volume" "$mount_path" || echo "wsparity: cannot mount volume $volume at $mount_path" >&2',
    "    fi",
    "  done",
    "}",
    'wsparity_volumes "$CI_PROJECT_DIR/.wsparity/volumes" <<< "${WSPARITY_VOLUMES:-}"',
    'rm -rf "$CI_PROJECT_DIR/.wsparity/ephemeral"',
    'wsparity_volumes "$CI_PROJECT_DIR/.wsparity/ephemeral" <<< "${WSPARITY_EPHEMERAL_VOLUMES:-}"',
  ].join("\n"),
  // Shell jobs share the runner host's ports: two workspaces (or a restarted one whose old editor has not exited
  // yet) would both want the editor's port. The editor takes a free one, and the agent serves it as the declared port.
  [
    'if [ "${WSPARITY_EDITOR_FREE_PORT:-}" = true ]; then',
    '  declared_editor_port="$WSPARITY_EDITOR_PORT"',
    '  WSPARITY_EDITOR_PORT="$(node -e \'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { process.stdout.write(String(s.address().port)); s.close(); })\')"',
    "  export WSPARITY_EDITOR_PORT",
    '  WSPARITY_PORTS="$(printf ",%s," "$WSPARITY_PORTS" | sed "s/,$declared_editor_port,/,$declared_editor_port=$WSPARITY_EDITOR_PORT,/; s/^,//; s/,$//")"',
    "  export WSPARITY_PORTS",
    "fi",
  ].join("\n"),
  [
    'node "$WSPARITY_TOOLS_DIR/wsparity-editor.mjs" "$CI_PROJECT_DIR" >"$CI_PROJECT_DIR/.wsparity/logs/editor.log" 2>&1 &',
    "editor_pid=$!",
    'node "$WSPARITY_TOOLS_DIR/wsparity-agent.mjs" >"$CI_PROJECT_DIR/.wsparity/logs/agent.log" 2>&1 &',
    "agent_pid=$!",
    'if [ -n "${WSPARITY_MAIN_COMMAND:-}" ]; then eval "$WSPARITY_MAIN_COMMAND" >"$CI_PROJECT_DIR/.wsparity/logs/main.log" 2>&1 & fi',
  ].join("\n"),
  'if [ -n "${WSPARITY_POST_START:-}" ]; then bash -c "$WSPARITY_POST_START"; fi',
  [
    'echo "wsparity: workspace $WSPARITY_WORKSPACE is running (agent pid $agent_pid, editor pid $editor_pid)"',
    // The job lives as long as the agent: an agent that exits 0 (told to stop) ends the job successfully.
    'wait "$agent_pid"',
  ].join("\n"),
];

export const WORKSPACE_AFTER_SCRIPT: readonly string[] = [
  'if [ -n "${WSPARITY_PRE_STOP:-}" ]; then bash -c "$WSPARITY_PRE_STOP"; fi',
];

/**
 * The tools service's command: copy node and the bundles (/opt/wsparity/*.mjs in the tools image) into the
 * build volume the services share with the job, mark them ready, and stay up for the job's lifetime.
 */
export const TOOLS_SERVICE_SCRIPT = [
  "set -e",
  'target="$WSPARITY_TOOLS_TARGET"',
  'mkdir -p "$target/bin"',
  'cp "$(command -v node)" "$target/bin/node"',
  'cp /opt/wsparity/*.mjs "$target/"',
  'touch "$target/ready"',
  "exec sleep infinity",
].join("; ");
