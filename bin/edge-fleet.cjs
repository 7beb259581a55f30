#!/usr/bin/env node
// `npx edge-fleet ...`: the project's command line. The sources are TypeScript
// (CommonJS, extensionless imports); tsx compiles them as they are required.
"use strict";
require("./node-startup.cjs");
require("tsx/cjs");
require("../cli/main.ts");
