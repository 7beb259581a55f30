/**
 * Where images come from: only the stack's registry and namespace, and in the
 * production stacks pinned by digest, so what runs is exactly what was reviewed.
 * The registry rule judges both the image pull and the container: during a
 * preview a container's image can be an output not known yet, the pull's
 * reference always is. The advisory digest rule judges only containers, so
 * each image is reported once.
 */
import { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { CONTAINER, ContainerProps, REMOTE_IMAGE, describe, known } from "../props";
import { RuleContext } from "../settings";

/** The image reference of a pull or a container, with who uses it; undefined for other resources or while unknown. */
function imageOf(args: ResourceValidationArgs): { ref: string; who: string } | undefined {
    if (args.type === REMOTE_IMAGE) {
        const ref = known(() => (args.props as { name?: unknown }).name);
        return typeof ref === "string" ? { ref, who: `the image pull ${args.name}` } : undefined;
    }
    if (args.type === CONTAINER) {
        const c = args.props as ContainerProps;
        const ref = known(() => c.image);
        return typeof ref === "string" ? { ref, who: describe(c) } : undefined;
    }
    return undefined;
}

export function imageRegistry(ctx: RuleContext): ResourceValidationPolicy {
    return {
        name: "images-from-stack-registry",
        description: "Images come only from the stack's registry and namespace (edge-fleet:registry).",
        validateResource: (args, report) => {
            const image = imageOf(args);
            const prefix = ctx.settings().registryPrefix;
            if (!image || !prefix) return;
            const rest = image.ref.startsWith(prefix) ? image.ref.slice(prefix.length) : undefined;
            // A further slash would be a sub-namespace the registry's owner did not grant.
            if (rest === undefined || rest.length === 0 || rest.includes("/")) {
                report(`${image.who} uses ${image.ref}, which is not an image of ${prefix.slice(0, -1)}`);
            }
        },
    };
}

export const DIGEST = /@sha256:[0-9a-f]{64}$/;

export const imageDigests: ResourceValidationPolicy = {
    name: "images-pinned-by-digest",
    description: "Images are pinned by digest (edge-fleet:release.services.<name>.digest); on by default in the production stacks.",
    validateResource: (args, report) => {
        const image = args.type === CONTAINER ? imageOf(args) : undefined;
        if (image && !DIGEST.test(image.ref)) report(`${image.who} uses ${image.ref}, a tag that can move; pin it by digest`);
    },
};
