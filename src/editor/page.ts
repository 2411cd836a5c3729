// The editor's page: a terminal a person can type into, over the /terminal WebSocket. Self-contained.
export const EDITOR_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wsparity editor</title>
<style>body{font:14px monospace;margin:16px;background:#1e1e1e;color:#ddd}#out{white-space:pre-wrap}
input{width:90%;font:14px monospace;background:#333;color:#fff;border:1px solid #555}</style></head>
<body><h1 id="title">wsparity editor</h1><div id="status">connecting…</div><div id="out"></div>
<form id="f"><input id="cmd" autocomplete="off" placeholder="command"></form>
<script>
const out = document.getElementById("out");
const status = document.getElementById("status");
const socket = new WebSocket(location.href.replace(/^http/, "ws").replace(/[?#].*$/, "").replace(/\\/?$/, "/terminal"));
socket.onopen = () => { status.textContent = "connected"; };
socket.onclose = () => { status.textContent = "disconnected"; };
socket.onmessage = (e) => {
  const r = JSON.parse(e.data);
  out.textContent += "$ " + r.command + "\\n" + r.stdout + r.stderr + "[exit " + r.exitCode + "]\\n";
};
document.getElementById("f").onsubmit = (e) => {
  e.preventDefault();
  const input = document.getElementById("cmd");
  socket.send(input.value);
  input.value = "";
};
</script></body></html>
`;
