/** The architectures the docker tier builds images for, named as Docker and Debian name them. */
export const ARCHES = ["amd64", "arm64"] as const;
export type Arch = (typeof ARCHES)[number];

/** What `uname -m` prints inside a container of that architecture. */
export const UNAME_MACHINE: Record<Arch, string> = { amd64: "x86_64", arm64: "aarch64" };

/** The architecture of this machine, in Docker's names. */
export function hostArch(): Arch {
  if (process.arch === "x64") return "amd64";
  if (process.arch === "arm64") return "arm64";
  throw new Error(
    `unsupported host architecture ${process.arch}: the docker tier builds for amd64 and arm64`,
  );
}

export function isArch(value: string): value is Arch {
  return (ARCHES as readonly string[]).includes(value);
}
