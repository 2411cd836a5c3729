// The process a container runs in the process kubelet when its image's entrypoint is unknown and the devfile
// gives no command: it says so in the log and stays up like a long-running image would.
console.log(
  `${new Date().toISOString()}: image ${process.env.WSPARITY_IMAGE} was not run (process kubelet); idling in its place`,
);
setInterval(() => {}, 1 << 30);
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
