/**
 * How a container behaves over time on a device nobody watches: it reports
 * its health, comes back after a crash without looping forever, and its logs
 * cannot fill the disk.
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { SERVICE_DEFAULTS, ServiceName } from "../../config/defaults";
import { CONTAINER, ContainerProps, describe, known, serviceOf } from "../props";

export const healthchecks: ResourceValidationPolicy = {
    name: "healthchecks",
    description: "Every service that has a healthcheck in the defaults table keeps one.",
    validateResource: (args, report) => {
        if (args.type !== CONTAINER) return;
        const c = args.props as ContainerProps;
        const defaults = SERVICE_DEFAULTS[serviceOf(c) as ServiceName] as (typeof SERVICE_DEFAULTS)[ServiceName] | undefined;
        if (!defaults?.healthcheck) return;
        const tests = known(() => c.healthcheck?.tests);
        // ["NONE"] is Docker's way of switching an image's own check off.
        if (tests === undefined || tests.length === 0 || tests[0] === "NONE") report(`${describe(c)} has no healthcheck`);
    },
};

export const RESTART_POLICIES: readonly string[] = ["always", "unless-stopped", "on-failure"];

export const restartPolicy: ResourceValidationPolicy = {
    name: "restart-policy",
    description: "Every container has a restart policy; on-failure carries a retry cap.",
    validateResource: (args, report) => {
        if (args.type !== CONTAINER) return;
        const c = args.props as ContainerProps;
        const restart = known(() => c.restart);
        if (!restart || !RESTART_POLICIES.includes(restart)) {
            report(`${describe(c)} has restart policy ${restart ?? "unset"}; allowed: ${RESTART_POLICIES.join(", ")}`);
        } else if (restart === "on-failure" && !((known(() => c.maxRetryCount) ?? 0) > 0)) {
            // Without a cap a crash loop runs forever and hides in the restart count.
            report(`${describe(c)} restarts on-failure without a retry cap (maxRetryCount)`);
        }
    },
};

export const logRotation: ResourceValidationPolicy = {
    name: "log-rotation",
    description: "Every container logs with the json-file driver and rotates (max-size and max-file).",
    validateResource: (args, report) => {
        if (args.type !== CONTAINER) return;
        const c = args.props as ContainerProps;
        const driver = known(() => c.logDriver);
        if (driver !== "json-file") {
            report(`${describe(c)} logs with ${driver ?? "the daemon's default driver"}, not json-file`);
            return;
        }
        const opts = known(() => c.logOpts) ?? {};
        const missing = ["max-size", "max-file"].filter((k) => !opts[k]);
        if (missing.length > 0) report(`${describe(c)}'s json-file log does not rotate: ${missing.join(" and ")} unset`);
    },
};
