// Interim copy of the requirement shapes agreed in the cross-package contract. Replaced by a
// re-export from @toil/job as soon as that package exports them (the shapes are identical, so
// the switch is invisible to plugins).

/** One kind of accelerator a job needs, e.g. `{ kind: "gpu", count: 1, api: "cuda" }`. */
export interface AcceleratorRequirement {
  kind: string;
  count: number;
  model?: string;
  brand?: string;
  api?: string;
}

/** What a job asks of the machine that runs it. Memory and disk are bytes; cores may be fractional. */
export interface Requirements {
  cores: number;
  memory: number;
  disk: number;
  accelerators: AcceleratorRequirement[];
  preemptible: boolean;
}
