import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import type { ImageConfig } from "./config";

export interface ServiceImageArgs {
  readonly image: ImageConfig;
  /** Registry to push to (`<name>.azurecr.io`); without it a built image stays local.
   * Pushing uses the Docker engine's credentials: run `az acr login -n <name>` first. */
  readonly registryServer?: pulumi.Input<string>;
  /** Tag of a built image. @default GIT_SHA, else "dev" */
  readonly tag?: string;
}

/** The repository root: the build context of service/Dockerfile. */
export const REPO_ROOT = path.resolve(__dirname, "..");

/** The type token ServiceImage had before it had a module segment (`mlops:<module>:<Type>`, as
 * every other component of the platform). */
export const SERVICE_IMAGE_FORMER_TYPE = "mlops:ServiceImage";

/**
 * The image the platform deploys: service/Dockerfile built (and pushed when a registry is given)
 * with @pulumi/docker, or the pinned reference from config. `ref` is what the pods run: the
 * pushed digest when built, so every build is a change the Deployment sees.
 */
export class ServiceImage extends pulumi.ComponentResource {
  readonly ref: pulumi.Output<string>;

  constructor(name: string, args: ServiceImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "mlops:image:ServiceImage",
      name,
      {},
      {
        ...opts,
        // Its token before it had a module segment: existing stacks keep it (and its children).
        aliases: [...(opts?.aliases ?? []), { type: SERVICE_IMAGE_FORMER_TYPE }],
      },
    );
    if (!args.image.build) {
      this.ref = pulumi.output(args.image.ref!);
    } else {
      const tag = args.tag ?? process.env.GIT_SHA ?? "dev";
      const push = args.registryServer !== undefined;
      const imageName = push
        ? pulumi.interpolate`${args.registryServer}/${args.image.repository}:${tag}`
        : pulumi.output(`${args.image.repository}:${tag}`);
      const image = new docker.Image(
        `${name}-image`,
        {
          imageName,
          build: {
            context: REPO_ROOT,
            dockerfile: path.join(REPO_ROOT, "service", "Dockerfile"),
            platform: "linux/amd64",
          },
          skipPush: !push,
        },
        { parent: this },
      );
      this.ref = push ? image.repoDigest : image.imageName;
    }
    this.registerOutputs({ ref: this.ref });
  }
}
