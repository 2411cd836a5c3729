import { noteCreated } from "./cleanup.ts";
import { dockerEngine, isNotFound } from "./engine.ts";
import { managedLabels } from "./labels.ts";

export interface CreatedVolume {
  name: string;
  remove(): Promise<void>;
}

/** A named local volume with the project's labels; mount it with WorkspaceContainer.withBind(volume, path). */
export class WorkspaceVolume {
  private readonly labels: Record<string, string> = {};

  constructor(private readonly name: string) {}

  withLabels(labels: Record<string, string>): this {
    Object.assign(this.labels, labels);
    return this;
  }

  async create(): Promise<CreatedVolume> {
    noteCreated();
    const engine = dockerEngine();
    await engine.createVolume({ Name: this.name, Labels: { ...this.labels, ...managedLabels() } });
    return {
      name: this.name,
      remove: async () => {
        try {
          await engine.getVolume(this.name).remove({ force: true });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      },
    };
  }
}
