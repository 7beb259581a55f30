import { describe, expect, it } from "vitest";
import { median } from "../../scripts/bench/lib/timing";

// The bench's no-op figure is the median of several runs: one slow run (the
// machine busy for a moment) must not move it.
describe("the bench's median", () => {
    it("is the middle run of an odd count, whatever their order", () => {
        expect(median([2.4, 2.1, 9.9, 2.2, 2.0])).toBe(2.2);
    });

    it("is the mean of the two middle runs of an even count, to a tenth", () => {
        expect(median([2.0, 2.3, 2.1, 9.0])).toBe(2.2);
    });

    it("refuses no runs at all", () => {
        expect(() => median([])).toThrow("median of no values");
    });
});
