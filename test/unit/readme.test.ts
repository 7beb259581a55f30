import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { serviceDefaultsTable } from "../../config/defaultsTable";
import { ROOT } from "./harness";

describe("README", () => {
    it("documents exactly the defaults in config/defaults.ts", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const m = /<!-- service-defaults:start -->\n([\s\S]*?)\n<!-- service-defaults:end -->/.exec(readme);
        expect(m, "README has the service-defaults markers").not.toBeNull();
        expect(m![1]).toBe(serviceDefaultsTable());
    });
});
