module edge-fleet/images/self-monitor

go 1.22
