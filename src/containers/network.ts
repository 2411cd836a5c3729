import { noteCreated } from "./cleanup.ts";
import { dockerEngine, isNotFound } from "./engine.ts";
import { managedLabels } from "./labels.ts";

export interface StartedNetwork {
  id: string;
  name: string;
  remove(): Promise<void>;
}

/** A user-defined bridge network with the project's labels; internal() cuts it off from every outside route. */
export class WorkspaceNetwork {
  private isInternal = false;
  private readonly labels: Record<string, string> = {};

  constructor(private readonly name: string) {}

  internal(): this {
    this.isInternal = true;
    return this;
  }

  withLabels(labels: Record<string, string>): this {
    Object.assign(this.labels, labels);
    return this;
  }

  async create(): Promise<StartedNetwork> {
    noteCreated();
    const network = await dockerEngine().createNetwork({
      Name: this.name,
      Driver: "bridge",
      Internal: this.isInternal,
      CheckDuplicate: true,
      Labels: { ...this.labels, ...managedLabels() },
    });
    return {
      id: network.id,
      name: this.name,
      remove: async () => {
        try {
          await network.remove();
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      },
    };
  }
}
