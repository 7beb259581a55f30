#!/usr/bin/env bash
# Writes the `local` stack's generated config (the repository's
# Pulumi.local.yaml plus the simulated devices' addresses, host keys and the
# secrets) for `edge-fleet` commands run on the local stack.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=local-stack.sh
source "$(dirname "$0")/local-stack.sh"
mapfile -t devices < <(local_devices)
write_local_config "${devices[@]}"
