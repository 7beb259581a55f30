module edge-fleet/sim/standin

go 1.22
