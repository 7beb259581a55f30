// ESLint for the TypeScript program, its tests and the scripts' JavaScript.
// Type-aware rules run through the TypeScript project service (tsconfig.json),
// which also lets @pulumi/eslint-plugin see where a value is an Output.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

// Node's globals for the plain-JavaScript helpers; TypeScript checks its own.
const nodeGlobals = {
    Buffer: "readonly",
    console: "readonly",
    process: "readonly",
    require: "readonly",
    module: "writable",
    __dirname: "readonly",
    setInterval: "readonly",
    clearInterval: "readonly",
    setTimeout: "readonly",
};

export default tseslint.config(
    js.configs.recommended,
    {
        files: ["**/*.ts", "**/*.mts"],
        extends: [tseslint.configs.recommendedTypeChecked],
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        plugins: { "@pulumi": pulumi },
        rules: {
            // An Output in a template literal renders as a warning text, not its value.
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
        },
    },
    {
        // Tests read untyped JSON (mock resource inputs, `docker inspect`) and
        // mutate raw stack config on purpose; typing it would restate the
        // provider's schema. The other type-aware rules still apply.
        files: ["test/**/*.ts"],
        rules: {
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-unsafe-argument": "off",
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-call": "off",
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-return": "off",
        },
    },
    {
        files: ["**/*.mjs", "**/*.cjs"],
        languageOptions: { globals: nodeGlobals },
    },
);
